// The command line's progress bar, for long runs: search reindex, recount, dead-letter redrive.

/** Where the progress goes: a TTY is redrawn in place, anything else gets a line every 10%. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const BAR_WIDTH = 20;
const count = (value: number) => value.toLocaleString('en-US');

/** `shop [#####---------------] 1,200/4,000 items`: redrawn in place on a TTY, else every 10%. */
export function progressBar(name: string, total: number, out: ProgressStream, unit = 'items') {
  let lastTenth = -1;
  const line = (done: number) => {
    // What was found while the run went is done too: the bar never shows more done than there are.
    const of = Math.max(total, done);
    const filled = of === 0 ? BAR_WIDTH : Math.floor((done / of) * BAR_WIDTH);
    return `${name} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${count(done)}/${count(of)} ${unit}`;
  };
  const tenth = (done: number) => (total === 0 ? 10 : Math.floor((Math.min(done, total) / total) * 10));
  return {
    show(done: number) {
      if (out.isTTY) {
        out.write(`\r${line(done)}\x1b[K`);
        return;
      }
      if (tenth(done) === lastTenth) return;
      lastTenth = tenth(done);
      out.write(`${line(done)}\n`);
    },
    end(done: number) {
      if (out.isTTY) {
        out.write(`\r${line(done)}\x1b[K\n`);
        return;
      }
      if (tenth(done) !== lastTenth) out.write(`${line(done)}\n`);
    },
  };
}
