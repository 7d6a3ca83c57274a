package dev.attn4j.tokenizers;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The decoders of tokenizer.json: turn token strings back into text. */
final class Decoders {
    private Decoders() {
    }

    /** Rewrites the list of token strings; the decoded text is their concatenation. */
    interface Decoder {
        List<String> decodeChain(List<String> tokens);
    }

    /** WordPiece: glue "##" pieces, put spaces between words, optionally clean up punctuation. */
    record WordPiece(String prefix, boolean cleanup) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                if (i != 0) {
                    t = t.startsWith(prefix) ? t.replaceFirst(Pattern.quote(prefix), "") : " " + t;
                }
                if (cleanup) {
                    t = cleanup(t);
                }
                out.add(t);
            }
            return out;
        }

        static String cleanup(String s) {
            return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                    .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" do not", " don't")
                    .replace(" 's", "'s").replace(" 've", "'ve").replace(" 're", "'re");
        }
    }

    /** Byte-level: map chars back to bytes and decode UTF-8 (lossy). */
    record ByteLevel() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (String t : tokens) {
                int[] cps = t.codePoints().toArray();
                boolean all = true;
                for (int c : cps) {
                    if (ByteChars.byteOf(c) < 0) {
                        all = false;
                        break;
                    }
                }
                if (all) {
                    for (int c : cps) {
                        bytes.write(ByteChars.byteOf(c));
                    }
                } else {
                    bytes.writeBytes(t.getBytes(StandardCharsets.UTF_8));
                }
            }
            return List.of(Utf8Lossy.decode(bytes.toByteArray()));
        }
    }

    /** Metaspace: the marker becomes a space; the first token loses its markers when prepending. */
    record Metaspace(int replacement, PreTokenizers.PrependScheme prependScheme) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                StringBuilder sb = new StringBuilder();
                final int idx = i;
                tokens.get(i).codePoints().forEach(c -> {
                    if (c == replacement) {
                        if (!(idx == 0 && prependScheme != PreTokenizers.PrependScheme.NEVER)) {
                            sb.append(' ');
                        }
                    } else {
                        sb.appendCodePoint(c);
                    }
                });
                out.add(sb.toString());
            }
            return out;
        }
    }

    /** BPE with an end-of-word suffix: the suffix becomes a space (nothing on the last token). */
    record Bpe(String suffix) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                out.add(tokens.get(i).replace(suffix, i == tokens.size() - 1 ? "" : " "));
            }
            return out;
        }
    }

    /** Runs of &lt;0xXX&gt; tokens become the text of their bytes (U+FFFD per byte if invalid UTF-8). */
    record ByteFallback() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            ByteArrayOutputStream pending = new ByteArrayOutputStream();
            for (String t : tokens) {
                int b = byteToken(t);
                if (b >= 0) {
                    pending.write(b);
                    continue;
                }
                flush(pending, out);
                out.add(t);
            }
            flush(pending, out);
            return out;
        }

        private static int byteToken(String t) {
            if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
                try {
                    return Integer.parseInt(t.substring(3, 5), 16);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
            return -1;
        }

        private static void flush(ByteArrayOutputStream pending, List<String> out) {
            if (pending.size() == 0) {
                return;
            }
            byte[] b = pending.toByteArray();
            String s = Utf8Lossy.decodeStrict(b);
            if (s != null) {
                out.add(s);
            } else {
                for (int i = 0; i < b.length; i++) {
                    out.add("\uFFFD");
                }
            }
            pending.reset();
        }
    }

    /** Joins all tokens into one. */
    record Fuse() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    /** Removes up to {@code start} leading and {@code stop} trailing {@code content} chars of each token. */
    record Strip(int content, int start, int stop) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                int[] cps = t.codePoints().toArray();
                int startCut = 0;
                for (int i = 0; i < Math.min(start, cps.length); i++) {
                    if (cps[i] == content) {
                        startCut = i + 1;
                    } else {
                        break;
                    }
                }
                int stopCut = cps.length;
                for (int i = 0; i < Math.min(stop, cps.length); i++) {
                    int index = cps.length - i - 1;
                    if (cps[index] == content) {
                        stopCut = index;
                    } else {
                        break;
                    }
                }
                out.add(startCut < stopCut ? new String(cps, startCut, stopCut - startCut) : "");
            }
            return out;
        }
    }

    /** Replaces a string or regex in each token. */
    record Replace(String literal, Pattern regex, String content) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                if (regex != null) {
                    out.add(regex.matcher(t).replaceAll(Matcher.quoteReplacement(content)));
                } else {
                    out.add(literal.isEmpty() ? t : t.replace(literal, content));
                }
            }
            return out;
        }
    }

    /** Applies decoders in order. */
    record Sequence(List<Decoder> decoders) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            for (Decoder d : decoders) {
                tokens = d.decodeChain(tokens);
            }
            return tokens;
        }
    }
}
