import type { Output } from '../cli/io.ts';
import { hasChanges } from '../plan/model.ts';
import { formatDiagnostic } from '../render/diagnostics.ts';
import { assetTitle } from '../render/plan/text.ts';
import type { Style } from '../render/style.ts';
import type { DevController } from './controller.ts';
import { orderDiagnostics, planHeadline } from './rows.ts';
import { type DevState, noPlanReason } from './state.ts';

const maxAssetLines = 20;
const symbol = { create: '+', update: '~', delete: '-' } as const;

/** One compact block: what happened, then the problems (newest edit first), then the plan summary. */
export function renderBlock(state: DevState, headline: string, style: Style): string {
  const out = [style.bold(`── ${headline}`)];
  const view = state.view;
  if (view) for (const d of orderDiagnostics(view.diagnostics, state.recent)) out.push(formatDiagnostic(d, style));
  const plan = view?.plan;
  if (plan && !view.diagnostics.some((d) => d.severity === 'error')) {
    out.push(hasChanges(plan) ? style.bold(planHeadline(plan)) : style.green(planHeadline(plan)));
    for (const c of plan.changes.slice(0, maxAssetLines)) {
      const where = c.source ? style.dim(`  ${c.source.file}:${c.source.line}:${c.source.column}`) : '';
      out.push(
        `  ${symbol[c.action]} ${assetTitle(c)}${c.fields.length ? ` (${c.fields.length} fields)` : ''}` +
          `${c.drift ? ' (overwrites drift)' : ''}${where}`,
      );
    }
    if (plan.changes.length > maxAssetLines) out.push(style.dim(`  … ${plan.changes.length - maxAssetLines} more`));
  } else out.push(style.dim(noPlanReason(state)));
  return out.join('\n') + '\n\n';
}

/**
 * `canon dev` without a terminal (a pipe, a log, CI): no ink, one block per change on stdout.
 * Returns when `stop` resolves (a signal) and the controller has shut down.
 */
export async function runLineMode(
  controller: DevController,
  stdout: Output,
  style: Style,
  stop: Promise<void>,
): Promise<void> {
  let printed = 0;
  const print = () => {
    const state = controller.state;
    for (; printed < state.history.length; printed++) {
      const entry = state.history[printed]!;
      // Only the newest entry gets the full block: earlier ones in the same burst describe states already replaced.
      stdout.write(
        printed === state.history.length - 1
          ? renderBlock(state, `${entry.time} ${entry.text}`, style)
          : `── ${entry.time} ${entry.text}\n`,
      );
    }
  };
  const unsubscribe = controller.subscribe(print);
  try {
    controller.start();
    await Promise.race([stop, controller.done]);
    await controller.stop();
    print();
  } finally {
    unsubscribe();
  }
}
