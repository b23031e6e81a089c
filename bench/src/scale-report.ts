/** Where `pnpm bench:scale` writes in bench/RESULTS.md; `pnpm bench` keeps everything from here on. */
export const SCALE_MARKER = '<!-- bench:scale -->';
