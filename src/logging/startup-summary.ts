import type { AppConfig } from '../config/app-config';

export interface StartupSummary {
  url: string;
  dashboardUrl: string;
  docsUrl: string;
  developmentKey?: string;
}

export function startupSummary(config: Pick<AppConfig, 'generatedDevKey'>, port: number): StartupSummary {
  const url = `http://localhost:${port}`;
  return {
    url,
    dashboardUrl: `${url}/dashboard`,
    docsUrl: `${url}/docs`,
    ...(config.generatedDevKey && { developmentKey: config.generatedDevKey }),
  };
}

/** The block a person at a terminal reads last: where the service is, and the key to try it with. */
export function startupBlock(summary: StartupSummary): string {
  const lines = [
    '',
    `  batchgate is running`,
    `    API         ${summary.url}`,
    `    Dashboard   ${summary.dashboardUrl}`,
    `    API docs    ${summary.docsUrl}`,
  ];
  if (summary.developmentKey) {
    lines.push(
      `    Dev key     ${summary.developmentKey}`,
      `                (org "dev", plan "pro"; API_KEYS is not set, so a new key is made at every start)`,
    );
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}
