/**
 * A list that renders plainly when short and virtualises when long (thousands of users, keys or
 * audit rows). Short lists stay plain so the DOM stays simple for assistive technology.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import Box from '@mui/material/Box';
import { useRef, type ReactNode } from 'react';

/** Props of VirtualList. */
export interface VirtualListProps<T> {
  items: readonly T[];
  getKey: (item: T, index: number) => string;
  renderItem: (item: T, index: number) => ReactNode;
  /** Estimated row height in pixels (rows are measured once rendered). */
  estimateSize: number;
  /** Height of the scroll area. */
  height: number | string;
  /** Lists up to this long render without virtualisation. */
  threshold?: number;
  role?: string;
  ariaLabel?: string;
}

function Virtualised<T>(props: VirtualListProps<T>): ReactNode {
  const parent = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: props.items.length,
    getScrollElement: () => parent.current,
    estimateSize: () => props.estimateSize,
    overscan: 8,
    getItemKey: (index) => props.getKey(props.items[index]!, index),
  });
  return (
    <Box
      ref={parent}
      role={props.role}
      aria-label={props.ariaLabel}
      sx={{ height: props.height, overflow: 'auto', position: 'relative' }}
    >
      <Box sx={{ height: virtualizer.getTotalSize(), position: 'relative', width: '100%' }}>
        {virtualizer.getVirtualItems().map((row) => (
          <Box
            key={row.key}
            data-index={row.index}
            ref={virtualizer.measureElement}
            sx={{ position: 'absolute', top: 0, left: 0, width: '100%' }}
            style={{ transform: `translateY(${row.start}px)` }}
          >
            {props.renderItem(props.items[row.index]!, row.index)}
          </Box>
        ))}
      </Box>
    </Box>
  );
}

/** Renders `items`, virtualised beyond the threshold. */
export function VirtualList<T>(props: VirtualListProps<T>): ReactNode {
  if (props.items.length <= (props.threshold ?? 100)) {
    return (
      <Box
        role={props.role}
        aria-label={props.ariaLabel}
        sx={{ maxHeight: props.height, overflow: 'auto' }}
      >
        {props.items.map((item, index) => (
          <Box key={props.getKey(item, index)}>{props.renderItem(item, index)}</Box>
        ))}
      </Box>
    );
  }
  return <Virtualised {...props} />;
}

/**
 * Runs `fn` once the next frame has been painted (a frame callback, then a task after it), for
 * performance marks that must not fire before the state they announce is on screen. Returns a
 * cancel function (an effect cleanup).
 */
export function afterPaint(fn: () => void): () => void {
  if (typeof requestAnimationFrame !== 'function' || typeof performance.mark !== 'function') {
    return () => undefined;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const frame = requestAnimationFrame(() => {
    timer = setTimeout(fn, 0);
  });
  return () => {
    cancelAnimationFrame(frame);
    if (timer !== undefined) clearTimeout(timer);
  };
}
