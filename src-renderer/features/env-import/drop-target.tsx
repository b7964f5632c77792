/**
 * The whole window is the drop target for .env files: dragging files over the console shows an
 * overlay, dropping them opens the import wizard. Drags that carry no files (text, links) are
 * left alone so the rest of the console behaves as before.
 */
import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import { useEffect, useRef, useState, type ReactNode } from 'react';

function carriesFiles(e: DragEvent): boolean {
  const types = e.dataTransfer?.types;
  if (!types) return false;
  for (let i = 0; i < types.length; i++) if (types[i] === 'Files') return true;
  return false;
}

/** Window-wide drop handling plus the overlay shown while files are dragged over. */
export function DropTarget(props: { onFiles: (files: File[]) => void }): ReactNode {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  const onFiles = useRef(props.onFiles);
  onFiles.current = props.onFiles;

  useEffect(() => {
    const enter = (e: DragEvent): void => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current += 1;
      setOver(true);
    };
    const overWindow = (e: DragEvent): void => {
      if (!carriesFiles(e)) return;
      // Without preventDefault the browser would open the file instead of dropping it here.
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const leave = (e: DragEvent): void => {
      if (!carriesFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    };
    const drop = (e: DragEvent): void => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setOver(false);
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (files.length > 0) onFiles.current(files);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', overWindow);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', overWindow);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);

  if (!over) return null;
  return (
    <Box
      role="status"
      aria-label="Drop files to import"
      sx={{
        position: 'fixed',
        inset: 0,
        zIndex: (t) => t.zIndex.modal + 10,
        display: 'flex',
        alignItems: 'center',
        justifyContent: 'center',
        bgcolor: 'rgba(31, 95, 153, 0.18)',
        border: 4,
        borderStyle: 'dashed',
        borderColor: 'primary.main',
        pointerEvents: 'none',
      }}
    >
      <Typography variant="h5" sx={{ bgcolor: 'background.paper', px: 3, py: 2, borderRadius: 1 }}>
        Drop .env files to import them
      </Typography>
    </Box>
  );
}
