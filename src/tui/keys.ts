/** A key press in the view's own terms, so the state reducer does not depend on ink. */
export type KeyPress =
  | { name: 'up' | 'down' | 'pageup' | 'pagedown' | 'home' | 'end' | 'enter' | 'escape' | 'backspace' | 'tab' }
  | { name: 'char'; char: string; ctrl: boolean };

/** ink's `useInput` arguments (the fields we read), as a KeyPress; null for keys the view ignores. */
export interface InkKey {
  upArrow: boolean;
  downArrow: boolean;
  pageUp: boolean;
  pageDown: boolean;
  home: boolean;
  end: boolean;
  return: boolean;
  escape: boolean;
  backspace: boolean;
  delete: boolean;
  tab: boolean;
  ctrl: boolean;
}

/**
 * ink's `useInput` arguments as key presses. Keys typed faster than the view reads them (a held j,
 * keys sent by a script) arrive as one string, which ink passes on like a paste: one press per character.
 */
export function keysFromInk(input: string, key: InkKey): KeyPress[] {
  if (key.upArrow) return [{ name: 'up' }];
  if (key.downArrow) return [{ name: 'down' }];
  if (key.pageUp) return [{ name: 'pageup' }];
  if (key.pageDown) return [{ name: 'pagedown' }];
  if (key.home) return [{ name: 'home' }];
  if (key.end) return [{ name: 'end' }];
  if (key.return) return [{ name: 'enter' }];
  if (key.escape) return [{ name: 'escape' }];
  // Most terminals send DEL (0x7f) for Backspace; ink calls that "delete".
  if (key.backspace || key.delete) return [{ name: 'backspace' }];
  if (key.tab) return [{ name: 'tab' }];
  if (key.ctrl) return input === '' ? [] : [{ name: 'char', char: input, ctrl: true }];
  return [...input].map(
    (c): KeyPress => (c === '\r' || c === '\n' ? { name: 'enter' } : { name: 'char', char: c, ctrl: false }),
  );
}

export const char = (c: string, ctrl = false): KeyPress => ({ name: 'char', char: c, ctrl });

/** The keys of the browsing view, for the help overlay, the status line and the README. */
export const keyHelp: readonly (readonly [keys: string, what: string])[] = [
  ['↑/↓ j/k', 'move (PgUp/PgDn, g/G: a page, the top, the bottom)'],
  ['enter/space', 'expand or collapse an asset or a group'],
  ['/', 'filter by kind, id or file (enter keeps it, esc clears it)'],
  ['e', 'jump to the next error'],
  ['r', 're-read the live database (reconnects after an outage)'],
  ['a', 'apply the plan to the database, after a confirmation'],
  ['?', 'this help'],
  ['q, Ctrl-C', 'quit'],
];

export const keyBar = '↑↓/jk move · enter expand · / filter · e errors · r reload db · a apply · ? help · q quit';
