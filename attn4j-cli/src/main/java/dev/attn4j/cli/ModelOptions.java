package dev.attn4j.cli;

import dev.attn4j.hub.HubSettings;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelSource;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Options shared by the commands that read texts with a model: {@code --model}, {@code --file}. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "M",
            description = "Model directory or Hugging Face id (default: the built-in default model).")
    String model;

    @Option(names = "--file", paramLabel = "F",
            description = "UTF-8 file with one text per line (an empty line is an empty text); '-' reads stdin.")
    Path file;

    /** The model directory: --model resolved (local folder, HF cache or download), else the default. */
    ModelDirectory directory() throws IOException {
        if (model == null) return ModelDirectory.of(DefaultModel.resolve());
        return ModelSource.of(HubSettings.fromEnvironment(), System.err).resolve(model);
    }

    /** The texts: those of --file (if given) followed by the positional ones. */
    List<String> texts(List<String> positional) throws IOException {
        List<String> out = new ArrayList<>();
        if (file != null) out.addAll(readLines(file));
        if (positional != null) out.addAll(positional);
        if (out.isEmpty() && file == null) {
            throw new IllegalArgumentException("no input: give texts as arguments or --file F");
        }
        return out;
    }

    /** Lines of a UTF-8 file ('-': stdin) without their line terminators (\n or \r\n); a last empty line is not a text. */
    static List<String> readLines(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = file.toString().equals("-") ? System.in.readAllBytes() : Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not valid UTF-8", e);
        }
        List<String> lines = new ArrayList<>();
        if (text.isEmpty()) return lines;
        int start = 0;
        while (start <= text.length()) {
            int nl = text.indexOf('\n', start);
            if (nl < 0) {
                if (start < text.length()) lines.add(text.substring(start));
                break;
            }
            int end = nl > start && text.charAt(nl - 1) == '\r' ? nl - 1 : nl;
            lines.add(text.substring(start, end));
            start = nl + 1;
        }
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') lines.set(0, lines.getFirst().substring(1)); // BOM
        return lines;
    }

    static UncheckedIOException unchecked(IOException e) {
        return new UncheckedIOException(e.getMessage(), e);
    }
}
