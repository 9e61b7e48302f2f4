/** Reads values out of a Prometheus text exposition (the `/metrics` body). */

/** The value of one sample: `name` with exactly these labels (in any order); undefined when absent. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    const wanted = Object.entries(labels);
    if (wanted.length === Object.keys(found).length && wanted.every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** Sample lines without their values: the series the exposition holds. */
export function seriesOf(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => line.slice(0, line.lastIndexOf(' ')));
}

export async function scrape(wsUrl: string): Promise<{ status: number; contentType: string | null; text: string }> {
  const res = await fetch(`${wsUrl.replace(/^ws/, 'http')}/metrics`);
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}
