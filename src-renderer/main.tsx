/** Console entry point: connect to main through whichever transport this page has, then render. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connect } from './api/transport.js';
import { App } from './components/app.js';
import { createStrataStore, StoreProvider } from './store/store.js';

const store = createStrataStore(connect());
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <StoreProvider store={store}>
        <App />
      </StoreProvider>
    </StrictMode>,
  );
}
