/** Where `npx -y pnpm@10 bench:scale` writes in bench/RESULTS.md; `npx -y pnpm@10 bench` keeps everything from here on. */
export const SCALE_MARKER = '<!-- bench:scale -->';
