package dev.attn4j.cli;

import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.generate.GenerationResult;
import dev.attn4j.generate.Generator;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.tokenizers.ChatTemplate;
import dev.attn4j.tokenizers.StreamingDecoder;
import dev.attn4j.tokenizers.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code attn4j chat}: a multi-turn conversation with a chat model. Each line read from stdin is a
 * user message; the conversation (with the {@code --system} message first) is rendered with the
 * model's chat template ({@link ChatTemplate}, as transformers' {@code apply_chat_template(...,
 * add_generation_prompt=True)}), tokenized without further special tokens, and the reply is
 * streamed to stdout as it is generated, then ended by a newline and kept as the assistant's
 * message for the next turns. Works interactively and piped; EOF ends the chat.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chats with a decoder-only LM through its chat template: each stdin line is a user turn, the reply is "
                + "streamed to stdout (one line per reply, ended by a newline). The model's generation_config.json gives the "
                + "decoding defaults; the generate options override them."})
public final class ChatCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "M", required = true,
            description = "Model directory, Hugging Face id or GGUF file of a decoder-only chat model with a chat template.")
    String model;

    @Option(names = "--system", paramLabel = "S", description = "A system message before the conversation.")
    String system;

    @Option(names = "--print-prompt", description = "Print each rendered prompt to stderr as a JSON line {\"prompt\", \"prompt_ids\"}.")
    boolean printPrompt;

    @Mixin
    GenerationOptions generation = new GenerationOptions();

    @Override
    public Integer call() throws IOException {
        CausalModelOptions options = new CausalModelOptions();
        options.model = model;
        try (CausalDecoder m = options.load(); var grad = GradMode.noGrad()) {
            Tokenizer tok = options.tokenizer();
            if (tok == null) throw new IllegalArgumentException(model + " has no tokenizer, which chat needs");
            ChatTemplate template = options.chatTemplate();
            GenerationConfig config = generation.apply(options.generationDefaults());
            if (config.numBeams() > 1) throw new IllegalArgumentException("chat streams its replies: --num-beams is not available");
            if (config.padTokenId() == null && config.eosTokenId().length == 0) config = config.toBuilder().padTokenId(0).build();
            Generator generator = new Generator(m, id -> tok.decode(new int[] {id}, false));
            PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
            List<ChatTemplate.Message> messages = new ArrayList<>();
            if (system != null) messages.add(ChatTemplate.Message.system(system));
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            boolean interactive = System.console() != null;
            while (true) {
                if (interactive) System.err.print("> ");
                String line = in.readLine();
                if (line == null) break;
                if (line.isBlank()) continue;
                messages.add(ChatTemplate.Message.user(line));
                String prompt = template.render(messages, true);
                int[] ids = tok.encode(prompt, false).ids();
                if (printPrompt) {
                    Map<String, Object> p = new LinkedHashMap<>();
                    p.put("prompt", prompt);
                    p.put("prompt_ids", ids);
                    System.err.println(JsonMapper.builder().build().writeValueAsString(p));
                }
                if (ids.length > m.config().maxPositionEmbeddings()) {
                    throw new IllegalArgumentException("the conversation has " + ids.length + " tokens, more than the model's context of "
                            + m.config().maxPositionEmbeddings() + " positions");
                }
                StreamingDecoder text = new StreamingDecoder(tok);
                List<GenerationResult> r = generator.generate(List.of(ids), config, (row, token) -> {
                    out.print(text.next(token));
                    out.flush();
                });
                out.print(text.flush());
                out.println();
                out.flush();
                int[] reply = r.get(0).tokens();
                if (reply.length > 0 && config.isEos(reply[reply.length - 1])) reply = Arrays.copyOf(reply, reply.length - 1);
                messages.add(ChatTemplate.Message.assistant(tok.decode(reply, true)));
            }
        }
        return 0;
    }
}
