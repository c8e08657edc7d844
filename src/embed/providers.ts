import type { EmbeddingSettings } from '../config/config.ts';
import { openAiProvider } from './openai.ts';
import type { EmbeddingProvider } from './provider.ts';

/** Settings the provider cannot work with: one line for the user, nothing embedded. */
export class ProviderSetupError extends Error {}

/** The provider canon.yaml names. The API key is read from the variable it names, here and nowhere else. */
export async function providerFor(
  settings: EmbeddingSettings,
  env: NodeJS.ProcessEnv,
  options: { timeoutMs?: number } = {},
): Promise<EmbeddingProvider> {
  if (settings.provider === 'local') {
    const { localProvider } = await import('./local.ts');
    return localProvider(settings);
  }
  const apiKey = env[settings.apiKeyEnv] || undefined;
  if (!apiKey && new URL(settings.baseUrl).hostname === 'api.openai.com') {
    throw new ProviderSetupError(
      `no API key: set the environment variable ${settings.apiKeyEnv} ` +
        '(embeddings.api_key_env in canon.yaml names it), ' +
        'or use embeddings.provider: local to embed offline',
    );
  }
  return openAiProvider({
    baseUrl: settings.baseUrl,
    model: settings.model,
    dimensions: settings.dimensions,
    apiKey,
    apiKeyEnv: settings.apiKeyEnv,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}
