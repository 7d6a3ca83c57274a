package dev.attn4j.hub;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line download progress bar drawn with carriage returns, redrawn at most every
 * {@value #REDRAW_NANOS} ns: {@code config.json  [#####.....]  45% 40.8/90.9 MB 12.3 MB/s}.
 * Does nothing when the stream is null.
 */
final class ProgressBar {
    private static final long REDRAW_NANOS = 150_000_000L;
    private static final int WIDTH = 24;

    private final PrintStream out;
    private final String label;
    private final long total;
    private final long initial;
    private final long startNanos;
    private long done;
    private long lastDraw;

    /**
     * @param total   expected bytes, or -1 when unknown
     * @param initial bytes already there (resumed download)
     */
    ProgressBar(PrintStream out, String label, long total, long initial) {
        this.out = out;
        this.label = label.length() > 40 ? "..." + label.substring(label.length() - 37) : label;
        this.total = total;
        this.initial = initial;
        this.done = initial;
        this.startNanos = System.nanoTime();
        this.lastDraw = startNanos - REDRAW_NANOS;
        draw(false);
    }

    void advance(long bytes) {
        done += bytes;
        if (out != null && System.nanoTime() - lastDraw >= REDRAW_NANOS) {
            draw(false);
        }
    }

    /** Draws the final state and ends the line. */
    void finish(String suffix) {
        if (out != null) {
            draw(true);
            out.print(suffix == null ? "\n" : " " + suffix + "\n");
            out.flush();
        }
    }

    private void draw(boolean last) {
        if (out == null) {
            return;
        }
        long now = System.nanoTime();
        lastDraw = now;
        double secs = Math.max(1e-9, (now - startNanos) / 1e9);
        double rate = (done - initial) / secs;
        StringBuilder sb = new StringBuilder("\r").append(label).append("  ");
        if (total > 0) {
            double f = Math.min(1.0, (double) done / total);
            int fill = (int) Math.round(f * WIDTH);
            sb.append('[').append("#".repeat(fill)).append(".".repeat(WIDTH - fill)).append("] ");
            sb.append(String.format(Locale.ROOT, "%3d%% %s/%s", (int) (f * 100), human(done), human(total)));
        } else {
            sb.append(human(done));
        }
        sb.append(' ').append(human((long) rate)).append("/s");
        if (last && initial > 0) {
            sb.append(" (resumed at ").append(human(initial)).append(')');
        }
        out.print(sb);
        out.flush();
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double v = bytes;
        int u = -1;
        do {
            v /= 1000.0;
            u++;
        } while (v >= 1000.0 && u < units.length - 1);
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
