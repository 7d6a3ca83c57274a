package dev.attn4j.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.attn4j.models.sentence.SentenceTokenizer;
import dev.attn4j.tokenizers.Encoding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code attn4j tokenize}: the ids and tokens the model's pipeline feeds the encoder, one JSON line per input. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenizes texts as the model's pipeline does (special tokens, truncation): one JSON line "
                + "{\"text\", \"ids\", \"tokens\"} per input, in input order.")
public final class TokenizeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options = new ModelOptions();

    @Parameters(paramLabel = "TEXT", arity = "0..*", description = "Texts to tokenize (after those of --file).")
    List<String> texts;

    @Override
    public Integer call() throws IOException {
        List<String> input = options.texts(texts);
        SentenceTokenizer tok = SentenceTokenizer.load(options.directory());
        PrintStream out = System.out;
        try (JsonGenerator g = new JsonFactory().createGenerator((OutputStream) out)) {
            g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            g.setRootValueSeparator(null);                                 // one object per line, no space between
            for (String text : input) {
                Encoding e = tok.encode(text);
                g.writeStartObject();
                g.writeStringField("text", text);
                g.writeArrayFieldStart("ids");
                for (int id : e.ids()) g.writeNumber(id);
                g.writeEndArray();
                g.writeArrayFieldStart("tokens");
                for (String t : e.tokens()) g.writeString(t);
                g.writeEndArray();
                g.writeEndObject();
                g.writeRaw('\n');
            }
        }
        out.flush();
        return 0;
    }
}
