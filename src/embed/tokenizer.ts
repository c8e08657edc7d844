import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';

/**
 * Token counts with OpenAI's cl100k_base encoding, whose ranks ship inside the js-tiktoken package
 * (nothing is downloaded). Other models tokenize differently, so counts are estimates for them; the
 * chunker only needs a stable, realistic measure. Built on first use: building the encoder costs
 * about a second, which commands without knowledge text should not pay.
 */
export const tokenizerName = 'cl100k_base';

let encoder: Tiktoken | undefined;

function encoderOf(): Tiktoken {
  if (!encoder) {
    const ranks = createRequire(import.meta.url)('js-tiktoken/ranks/cl100k_base') as
      | TiktokenBPE
      | { default: TiktokenBPE };
    encoder = new Tiktoken('default' in ranks ? ranks.default : ranks);
  }
  return encoder;
}

export function countTokens(text: string): number {
  return text === '' ? 0 : encoderOf().encode(text).length;
}
