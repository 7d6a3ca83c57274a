package dev.attn4j.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Renders attention weights (rows: output tokens, columns: source characters or tokens) as a labelled
 * heatmap: white = 0, dark red = 1, with a colour bar. Labels use {@link BitmapFont}, so no
 * system fonts or display are needed. Spaces in the source show as '_'.
 */
final class AttentionHeatmap {
    private static final int SCALE = 2;
    private static final int CELL = 22;
    private static final int PAD = 12;
    private static final int TEXT = 0x202020;
    private static final int GRID = 0xD0D0D0;

    private AttentionHeatmap() {
    }

    /**
     * @param weights      [T][S] values in [0, 1]
     * @param source       the S source characters
     * @param outputLabels T row labels
     * @param title        lines drawn above the map
     */
    static BufferedImage render(float[][] weights, String source, List<String> outputLabels, List<String> title) {
        List<String> columns = new java.util.ArrayList<>(source.length());
        for (int i = 0; i < source.length(); i++) columns.add(String.valueOf(source.charAt(i)));
        return render(weights, columns, outputLabels, title);
    }

    /**
     * As {@link #render(float[][], String, List, List)} with one label per source token: single
     * characters are written across, longer labels (subword tokens) upwards.
     */
    static BufferedImage render(float[][] weights, List<String> sourceLabels, List<String> outputLabels, List<String> title) {
        int t = weights.length, s = sourceLabels.size();
        if (t == 0 || s == 0) throw new IllegalArgumentException("attention heatmap needs at least one row and one column");
        if (outputLabels.size() != t) throw new IllegalArgumentException("heatmap: " + t + " rows but " + outputLabels.size() + " labels");
        for (float[] row : weights) {
            if (row.length != s) throw new IllegalArgumentException("heatmap: a row has " + row.length + " weights for " + s + " source tokens");
        }
        List<String> columns = new java.util.ArrayList<>(s);
        boolean upright = true;
        int columnH = 0;
        for (String l : sourceLabels) {
            String label = l.equals(" ") ? "_" : l;
            columns.add(label);
            upright &= label.length() <= 1;
            columnH = Math.max(columnH, BitmapFont.width(label, SCALE));
        }
        int lineH = BitmapFont.HEIGHT * SCALE;
        if (upright) columnH = lineH;
        int labelW = 0;
        for (String l : outputLabels) labelW = Math.max(labelW, BitmapFont.width(l, SCALE));
        int titleW = 0;
        for (String l : title) titleW = Math.max(titleW, BitmapFont.width(l, SCALE));
        int left = PAD + labelW + PAD;
        int top = PAD + title.size() * (lineH + 6) + PAD + columnH + 8;
        int gridW = s * CELL, gridH = t * CELL;
        int barX = left + gridW + 2 * PAD, barW = 16;
        int width = Math.max(barX + barW + PAD + BitmapFont.width("1.0", SCALE) + PAD, PAD + titleW + PAD);
        int height = top + gridH + PAD + lineH + PAD;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        BitmapFont.fill(img, 0, 0, width, height, 0xFFFFFF);
        for (int i = 0; i < title.size(); i++) BitmapFont.draw(img, title.get(i), PAD, PAD + i * (lineH + 6), SCALE, TEXT);
        // column labels: the source tokens
        for (int j = 0; j < s; j++) {
            String label = columns.get(j);
            int colour = label.equals("_") ? 0x909090 : TEXT;
            if (upright) {
                int x = left + j * CELL + (CELL - BitmapFont.width(label, SCALE)) / 2;
                BitmapFont.draw(img, label, x, top - lineH - 8, SCALE, colour);
            } else {
                drawUp(img, label, left + j * CELL + (CELL - lineH) / 2, top - 8, colour);
            }
        }
        // rows
        for (int i = 0; i < t; i++) {
            String label = outputLabels.get(i);
            BitmapFont.draw(img, label, left - PAD - BitmapFont.width(label, SCALE), top + i * CELL + (CELL - lineH) / 2, SCALE, TEXT);
            for (int j = 0; j < s; j++) {
                BitmapFont.fill(img, left + j * CELL, top + i * CELL, CELL - 1, CELL - 1, color(weights[i][j]));
            }
        }
        for (int i = 0; i <= t; i++) BitmapFont.fill(img, left, top + i * CELL - 1, gridW, 1, GRID);
        for (int j = 0; j <= s; j++) BitmapFont.fill(img, left + j * CELL - 1, top, 1, gridH, GRID);
        // colour bar, 1 at the top
        for (int y = 0; y < gridH; y++) BitmapFont.fill(img, barX, top + y, barW, 1, color(1 - (double) y / Math.max(1, gridH - 1)));
        BitmapFont.draw(img, "1.0", barX + barW + 6, top, SCALE, TEXT);
        BitmapFont.draw(img, "0", barX + barW + 6, top + gridH - lineH, SCALE, TEXT);
        return img;
    }

    /** Draws {@code text} turned a quarter left: reading upwards, its baseline at x, its start at bottom. */
    private static void drawUp(BufferedImage img, String text, int x, int bottom, int rgb) {
        int w = BitmapFont.width(text, SCALE), h = BitmapFont.HEIGHT * SCALE;
        if (w == 0) return;
        BufferedImage tmp = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        BitmapFont.fill(tmp, 0, 0, w, h, 0xFFFFFF);
        BitmapFont.draw(tmp, text, 0, 0, SCALE, rgb);
        for (int px = 0; px < w; px++) {
            for (int py = 0; py < h; py++) {
                int v = tmp.getRGB(px, py) & 0xFFFFFF;
                if (v == 0xFFFFFF) continue;
                int tx = x + py, ty = bottom - 1 - px;
                if (tx >= 0 && ty >= 0 && tx < img.getWidth() && ty < img.getHeight()) img.setRGB(tx, ty, v);
            }
        }
    }

    /** White -> orange -> dark red for v in [0, 1] (clamped). */
    static int color(double v) {
        double x = Double.isNaN(v) ? 0 : Math.max(0, Math.min(1, v));
        int[] a, b;
        double f;
        if (x < 0.5) {
            a = new int[] {255, 255, 255};
            b = new int[] {253, 141, 60};
            f = x / 0.5;
        } else {
            a = new int[] {253, 141, 60};
            b = new int[] {128, 0, 38};
            f = (x - 0.5) / 0.5;
        }
        int r = (int) Math.round(a[0] + (b[0] - a[0]) * f);
        int g = (int) Math.round(a[1] + (b[1] - a[1]) * f);
        int bl = (int) Math.round(a[2] + (b[2] - a[2]) * f);
        return (r << 16) | (g << 8) | bl;
    }

    /** Writes {@code img} as PNG to {@code file} (temporary file + rename). */
    static void writePng(BufferedImage img, Path file) throws IOException {
        var png = new java.io.ByteArrayOutputStream();
        if (!ImageIO.write(img, "png", png)) throw new IOException("no PNG writer available");
        dev.attn4j.io.AtomicFiles.write(file, png.toByteArray());
    }
}
