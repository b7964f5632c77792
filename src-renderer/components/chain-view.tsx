/** The resolution chain of one key: every level that applies, which one wins, which are shadowed. */
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import type { Resolution } from '../../src-main/core/types.js';
import { describeSource } from '../lib/forms.js';

/** Lists a resolution chain, most general first. */
export function ChainView({ resolution }: { resolution: Resolution }): ReactNode {
  return (
    <Box
      component="ol"
      aria-label={`Resolution chain of ${resolution.key}`}
      sx={{ m: 0, pl: 2, display: 'flex', flexDirection: 'column', gap: 0.25 }}
    >
      {resolution.chain.map((link) => (
        <Box
          component="li"
          key={`${link.level}|${link.scope}`}
          sx={{ display: 'flex', gap: 1, alignItems: 'center' }}
        >
          <Typography variant="body2" sx={{ minWidth: 180, fontWeight: link.winner ? 700 : 400 }}>
            {describeSource(link.level, link.scope)}
          </Typography>
          <Typography
            variant="body2"
            sx={{
              fontFamily: 'monospace',
              textDecoration: link.shadowed ? 'line-through' : 'none',
              color: link.value === null ? 'text.disabled' : 'text.primary',
              wordBreak: 'break-all',
            }}
          >
            {link.value === null ? '(not set)' : JSON.stringify(link.value)}
          </Typography>
          {link.winner ? <Chip size="small" color="success" label="wins" /> : null}
          {link.shadowed ? <Chip size="small" variant="outlined" label="shadowed" /> : null}
          {link.locked ? (
            <Chip size="small" color="error" variant="outlined" label="locked" />
          ) : null}
        </Box>
      ))}
    </Box>
  );
}
