// What the dashboard's uPlot charts share: colours read from the stylesheet's variables (light and
// dark), and a plot that fills its container's width and follows it as the page resizes.
import uPlot from 'uplot';

const MIN_WIDTH = 280;

export function cssColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** Draws a plot into `element` at the element's width (280 px at least); returns what removes it. */
export function mountPlot(
  element: HTMLElement,
  options: Omit<uPlot.Options, 'width'>,
  data: uPlot.AlignedData,
): () => void {
  const width = () => Math.max(MIN_WIDTH, element.clientWidth);
  const plot = new uPlot({ ...options, width: width() }, data, element);
  const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: options.height }));
  resize.observe(element);
  return () => {
    resize.disconnect();
    plot.destroy();
  };
}
