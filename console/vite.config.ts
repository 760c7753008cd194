// The browser console, built by `npm run build:console` (`vite build console`) into console/dist, which precall serves
// (src/console/app-routes.ts). Preact through TypeScript's own JSX settings (console/tsconfig.json);
// no dev server is needed to use it: precall serves the build.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // ECharts alone is ~600 kB before gzip; split it so the board does not wait for it.
    chunkSizeWarningLimit: 800,
    rollupOptions: { output: { manualChunks: (id) => (id.includes('node_modules/echarts') || id.includes('node_modules/zrender') ? 'charts' : undefined) } },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
