// Where notification links point: the installation's public URL (the dashboard's), from the
// environment; the CDK stack sets it to the HTTP API's URL unless told otherwise.
export const PUBLIC_URL_VAR = 'FAULTLINE_PUBLIC_URL';

export function publicUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return (env[PUBLIC_URL_VAR] ?? '').replace(/\/+$/, '');
}
