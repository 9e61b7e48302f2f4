import { describe, expect, it } from 'vitest';
import { captureLogs } from '../helpers/log-capture.js';

describe('log redaction', () => {
  it('redacts model API keys wherever the config or a request carries them', () => {
    const logs = captureLogs('info');
    logs.logger.info(
      {
        openaiApiKey: 'K1',
        anthropicApiKey: 'K2',
        config: { openaiApiKey: 'K3', anthropicApiKey: 'K4', models: [{ id: 'a', apiKey: 'K5' }] },
        models: [{ id: 'b', apiKey: 'K6' }],
        headers: { authorization: 'Bearer K7', 'x-api-key': 'K8' },
      },
      'config',
    );
    const line = logs.lines.join('');
    for (let i = 1; i <= 8; i++) expect(line).not.toContain(`K${i}`);
    expect(logs.entries('config')[0]).toMatchObject({ models: [{ id: 'b', apiKey: '[redacted]' }] });
  });
});
