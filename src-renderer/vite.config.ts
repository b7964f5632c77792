/**
 * Vite build of the console. `base: './'` keeps asset URLs relative so the same build loads from
 * file:// in Electron and from the web bridge. Paths come from import.meta.dirname so this file
 * needs no Node imports (the renderer folder is lint-fenced against them).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: {
    // Relative to root: <repo>/dist-renderer.
    outDir: '../dist-renderer',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 900,
    // No inline module preload polyfill: the CSP allows scripts from 'self' only.
    modulePreload: { polyfill: false },
  },
});
