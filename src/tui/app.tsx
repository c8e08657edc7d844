/** @jsxRuntime automatic @jsxImportSource react */
// (The pragma: canon runs from any folder, where tsx would not find our tsconfig.json's jsx setting.)
import { useInput, useStdout } from 'ink';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { keysFromInk } from './keys.ts';
import type { DevEvent, DevState } from './state.ts';
import { chromeLines, DevView } from './view.tsx';

/** What the view needs of its controller: the state, changes to it, and a way to send events. */
export interface ViewStore {
  subscribe(listener: () => void): () => void;
  getState(): DevState;
  dispatch(event: DevEvent): void;
}

const measure = (stdout: NodeJS.WriteStream) => ({ width: stdout.columns || 100, height: stdout.rows || 30 });

/** The view wired to its controller: keys in, state out, sized to the terminal and resized with it. */
export function DevApp({ controller, colors }: { controller: ViewStore; colors: boolean }) {
  const state = useSyncExternalStore(controller.subscribe, controller.getState);
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => measure(stdout));

  useEffect(() => {
    const resized = () => setSize(measure(stdout));
    stdout.on('resize', resized);
    return () => {
      stdout.off('resize', resized);
    };
  }, [stdout]);

  useEffect(() => {
    controller.dispatch({ type: 'resize', listHeight: size.height - chromeLines, width: size.width });
  }, [controller, size.height, size.width]);

  useInput((input, key) => {
    for (const press of keysFromInk(input, key)) controller.dispatch({ type: 'key', key: press });
  });

  return <DevView state={state} colors={colors} width={size.width} />;
}
