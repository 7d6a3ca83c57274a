package dev.attn4j.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Renders attention weights (rows: output tokens, columns: source characters) as a labelled
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
        List<String> columns = new java.util.ArrayList<>();
        for (int j = 0; j < source.length(); j++) columns.add(String.valueOf(source.charAt(j)));
        return render(weights, columns, outputLabels, title);
    }

    /**
     * As {@link #render(float[][], String, List, List)} with a label per column: one character each
     * (a space drawn as a grey '_'), or longer labels (subword tokens) written downwards.
     */
    static BufferedImage render(float[][] weights, List<String> columns, List<String> outputLabels, List<String> title) {
        int t = weights.length, s = columns.size();
        if (t == 0 || s == 0) throw new IllegalArgumentException("attention heatmap needs at least one row and one column");
        if (outputLabels.size() != t) throw new IllegalArgumentException("heatmap: " + t + " rows but " + outputLabels.size() + " labels");
        for (float[] row : weights) {
            if (row.length != s) throw new IllegalArgumentException("heatmap: a row has " + row.length + " weights for " + s + " source columns");
        }
        int lineH = BitmapFont.HEIGHT * SCALE;
        int labelW = 0;
        for (String l : outputLabels) labelW = Math.max(labelW, BitmapFont.width(l, SCALE));
        int titleW = 0;
        for (String l : title) titleW = Math.max(titleW, BitmapFont.width(l, SCALE));
        int left = PAD + labelW + PAD;
        int longest = 1;
        for (String c : columns) longest = Math.max(longest, c.length());
        int header = longest == 1 ? lineH + 8 : longest * (lineH + 2) + 8;
        int top = PAD + title.size() * (lineH + 6) + PAD + header;
        int gridW = s * CELL, gridH = t * CELL;
        int barX = left + gridW + 2 * PAD, barW = 16;
        int width = Math.max(barX + barW + PAD + BitmapFont.width("1.0", SCALE) + PAD, PAD + titleW + PAD);
        int height = top + gridH + PAD + lineH + PAD;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        BitmapFont.fill(img, 0, 0, width, height, 0xFFFFFF);
        for (int i = 0; i < title.size(); i++) BitmapFont.draw(img, title.get(i), PAD, PAD + i * (lineH + 6), SCALE, TEXT);
        // column labels: the source characters
        for (int j = 0; j < s; j++) {
            String col = columns.get(j);
            if (longest == 1) {
                boolean space = col.equals(" ");
                String label = space ? "_" : col;
                int x = left + j * CELL + (CELL - BitmapFont.width(label, SCALE)) / 2;
                BitmapFont.draw(img, label, x, top - lineH - 8, SCALE, space ? 0x909090 : TEXT);
            } else {                                                   // downwards, one character a line
                for (int k = 0; k < col.length(); k++) {
                    String ch = String.valueOf(col.charAt(k));
                    int x = left + j * CELL + (CELL - BitmapFont.width(ch, SCALE)) / 2;
                    BitmapFont.draw(img, ch, x, top - header + k * (lineH + 2), SCALE, TEXT);
                }
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
