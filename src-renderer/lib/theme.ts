/** Light and dark themes for the console. */
import { createTheme, type Theme } from '@mui/material/styles';

/** Builds the MUI theme for a colour mode. */
export function makeTheme(mode: 'light' | 'dark'): Theme {
  return createTheme({
    palette: {
      mode,
      primary: { main: mode === 'light' ? '#1f5f99' : '#7fb4e6' },
      secondary: { main: mode === 'light' ? '#5b6b7a' : '#a9b8c6' },
    },
    shape: { borderRadius: 6 },
    typography: { fontSize: 13 },
    components: {
      MuiButton: {
        defaultProps: { size: 'small' },
        styleOverrides: { root: { textTransform: 'none' } },
      },
      MuiTextField: { defaultProps: { size: 'small' } },
    },
  });
}
