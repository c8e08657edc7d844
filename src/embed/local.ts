import type { EmbeddingSettings } from '../config/config.ts';
import type { EmbeddingProvider } from './provider.ts';
import { ProviderSetupError } from './providers.ts';

export function localProvider(_settings: EmbeddingSettings): EmbeddingProvider {
  throw new ProviderSetupError('the local provider is not available in this build; use embeddings.provider: openai');
}
