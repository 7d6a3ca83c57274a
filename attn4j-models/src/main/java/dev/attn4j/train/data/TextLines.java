package dev.attn4j.train.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Plain UTF-8 text files of one segment per line (parallel corpora, hypotheses, references), gzip
 * compressed or not (told apart by the gzip magic bytes). Lines end at {@code \n} only, as Python
 * reads a file opened with {@code newline="\n"}: a final line without {@code \n} counts, a final
 * {@code \n} does not start an empty line, and a {@code \r} stays part of its line. Decoding is
 * strict: bytes that are not UTF-8 are an error naming the file and line.
 */
public final class TextLines {
    private TextLines() {
    }

    /** The lines of {@code file}. */
    public static List<String> read(Path file) {
        byte[] bytes = bytes(file);
        String s = DataFiles.decode(bytes, StandardCharsets.UTF_8, file).chars();
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\n') {
                out.add(s.substring(start, i));
                start = i + 1;
            }
        }
        if (start < s.length()) out.add(s.substring(start));
        return out;
    }

    private static byte[] bytes(Path file) {
        byte[] raw;
        try {
            if (Files.isDirectory(file)) throw new DataFileException(file, 0, "is a directory, not a text file");
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataFileException(file, 0, "no such file");
        } catch (AccessDeniedException e) {
            throw new DataFileException(file, 0, "permission denied");
        } catch (IOException e) {
            throw new DataFileException(file, 0, "cannot read: " + e.getMessage(), e);
        }
        if (raw.length < 2 || (raw[0] & 0xff) != 0x1f || (raw[1] & 0xff) != 0x8b) return raw;
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(raw))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length * 4);
            in.transferTo(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new DataFileException(file, 0, "not a valid gzip file: " + e.getMessage(), e);
        }
    }
}
