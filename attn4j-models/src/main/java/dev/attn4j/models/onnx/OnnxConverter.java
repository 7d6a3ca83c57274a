package dev.attn4j.models.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.io.AtomicFiles;
import dev.attn4j.io.safetensors.SafetensorsDType;
import dev.attn4j.io.safetensors.SafetensorsWriter;
import dev.attn4j.tensor.NDArray;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * {@code attn4j convert}: turns the ONNX export of a BERT-family encoder (any layer count, width,
 * head count or vocabulary that {@link BertOnnxImporter} can match to {@code BertModel} names) plus
 * its WordPiece {@code tokenizer.json} into a Hugging Face + sentence-transformers model directory:
 * <pre>
 * config.json  model.safetensors  tokenizer.json  tokenizer_config.json  special_tokens_map.json
 * vocab.txt  modules.json  sentence_bert_config.json  1_Pooling/config.json  attn4j_conversion.json
 * </pre>
 * The source is an {@code .onnx} file (its tokenizer.json given, or found beside it as
 * {@code tokenizer.json} or {@code <name>-tokenizer.json}) or a jar such as langchain4j's
 * embedding-model artifacts, which hold one {@code .onnx} file and its {@code *tokenizer.json}.
 * <p>
 * The pipeline is Transformer → Pooling → Normalize (sentence-transformers' modules). The pooling is
 * the caller's choice; without one, a langchain4j jar's own choice is used (the
 * {@code PoolingMode.CLS} or {@code MEAN} constant its model class passes, read from the class
 * file's constant pool), else mean pooling. {@code max_seq_length} defaults to the position
 * table's length (at most 512). The tokenizer.json loses its truncation and fixed padding (the
 * pipeline truncates at max_seq_length; batches pad dynamically); tokenizer_config.json takes
 * {@code do_lower_case}, {@code tokenize_chinese_chars} and {@code strip_accents} from its
 * BertNormalizer.
 * <p>
 * The directory is written into a temporary sibling, forced to disk and renamed into place, so
 * {@code --out} either does not exist or holds the whole model.
 */
public final class OnnxConverter {
    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final List<String> SPECIAL = List.of("[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]");
    private static final List<String> SPECIAL_KEYS = List.of("cls_token", "sep_token", "pad_token", "unk_token", "mask_token");

    /** Files of a complete converted directory (repository paths), attn4j_conversion.json last. */
    public static final List<String> FILES = List.of("config.json", "model.safetensors", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "modules.json",
            "sentence_bert_config.json", "1_Pooling/config.json", "attn4j_conversion.json");

    private OnnxConverter() {
    }

    /** sentence-transformers pooling modes {@code convert} writes. */
    public enum Pooling {
        CLS, MEAN;

        /** {@code cls} or {@code mean}. */
        public static Pooling parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "cls" -> CLS;
                case "mean" -> MEAN;
                default -> throw new IllegalArgumentException("unknown pooling '" + s + "' (expected cls or mean)");
            };
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * What to convert and how.
     *
     * @param name          the model's name (attn4j_conversion.json)
     * @param onnx          the ONNX model's bytes
     * @param onnxSource    where they came from (error messages, provenance)
     * @param tokenizerJson the tokenizer.json bytes
     * @param tokenizerSource where they came from
     * @param pooling       the pooling module's mode
     * @param poolingSource why that mode (provenance)
     * @param maxSeqLength  sentence-transformers max_seq_length, or 0 for min(max_position_embeddings, 512)
     * @param provenance    further entries for attn4j_conversion.json (artifact, ...)
     */
    public record Spec(String name, byte[] onnx, String onnxSource, byte[] tokenizerJson, String tokenizerSource,
                       Pooling pooling, String poolingSource, int maxSeqLength, Map<String, Object> provenance) {
    }

    /** What {@link #convert} wrote. */
    public record Result(Path dir, String name, BertConfigValues config, Pooling pooling, String poolingSource,
                         int maxSeqLength, int parameters) {
    }

    /** Called after each file is written (tests use it to fail midway). */
    @FunctionalInterface
    public interface Hook {
        void fileWritten(String name) throws IOException;
    }

    /**
     * Converts {@code from} ({@code .onnx} or {@code .jar}) into the new directory {@code out}.
     *
     * @param tokenizer    the tokenizer.json for an .onnx source, or null to look beside it
     * @param pooling      the pooling mode, or null for the jar's own choice / mean
     * @param maxSeqLength sentence-transformers max_seq_length, or 0 for the default
     * @throws IOException naming the file when the source cannot be read or imported, or when
     *                     {@code out} exists and is not an empty directory
     */
    public static Result convert(Path from, Path out, Path tokenizer, Pooling pooling, int maxSeqLength) throws IOException {
        Path target = out.toAbsolutePath().normalize();
        checkTarget(out, target);
        Spec spec = readSource(from, tokenizer, pooling, maxSeqLength);
        return writeAtomically(target, spec, name -> { });
    }

    private static void checkTarget(Path out, Path target) throws IOException {
        if (Files.exists(target)) {
            if (!Files.isDirectory(target)) throw new FileAlreadyExistsException(out + ": --out exists and is not a directory");
            try (Stream<Path> s = Files.list(target)) {
                if (s.findAny().isPresent()) {
                    throw new DirectoryNotEmptyException(out + ": --out exists and is not empty; choose a new directory");
                }
            }
        }
    }

    /** Reads an .onnx file (with its tokenizer) or a jar into a {@link Spec}. */
    public static Spec readSource(Path from, Path tokenizer, Pooling pooling, int maxSeqLength) throws IOException {
        if (maxSeqLength < 0) throw new IllegalArgumentException("--max-seq-length must be positive, got " + maxSeqLength);
        if (!Files.isRegularFile(from)) {
            throw new NoSuchFileException(from.toString(), null, Files.exists(from) ? "not a file" : "no such file");
        }
        String fname = from.getFileName().toString();
        String lower = fname.toLowerCase(Locale.ROOT);
        Map<String, Object> prov = new LinkedHashMap<>();
        if (lower.endsWith(".jar") || lower.endsWith(".zip")) {
            if (tokenizer != null) throw new IllegalArgumentException("--tokenizer applies to .onnx sources; a jar holds its own");
            return readJar(from, pooling, maxSeqLength, prov);
        }
        if (!lower.endsWith(".onnx")) {
            throw new IllegalArgumentException(from + ": expected an .onnx file or a .jar holding one");
        }
        String stem = fname.substring(0, fname.length() - ".onnx".length());
        Path tok = tokenizer;
        if (tok == null) {
            Path dir = from.toAbsolutePath().getParent();
            for (Path c : List.of(dir.resolve(stem + "-tokenizer.json"), dir.resolve("tokenizer.json"))) {
                if (Files.isRegularFile(c)) {
                    tok = c;
                    break;
                }
            }
            if (tok == null) {
                throw new NoSuchFileException(from.toString(), null, "no tokenizer.json or " + stem
                        + "-tokenizer.json beside it; pass --tokenizer FILE");
            }
        } else if (!Files.isRegularFile(tok)) {
            throw new NoSuchFileException(tok.toString(), null, "no such tokenizer.json");
        }
        prov.put("source", from.toAbsolutePath().normalize().toString());
        Pooling p = pooling != null ? pooling : Pooling.MEAN;
        String why = pooling != null ? "given (--pooling)" : "default (mean)";
        return new Spec(stem, Files.readAllBytes(from), from.toString(), Files.readAllBytes(tok), tok.toString(),
                p, why, maxSeqLength, prov);
    }

    private static Spec readJar(Path jar, Pooling pooling, int maxSeqLength, Map<String, Object> prov) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            List<ZipEntry> onnx = new ArrayList<>();
            List<ZipEntry> tokenizers = new ArrayList<>();
            Pooling found = null;
            String foundIn = null;
            String artifact = null;
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                if (e.isDirectory()) continue;
                String n = e.getName();
                if (n.endsWith(".onnx")) onnx.add(e);
                else if (n.endsWith("tokenizer.json")) tokenizers.add(e);
                else if (n.endsWith(".class") && e.getSize() < 1 << 20) {
                    Pooling p = poolingConstant(read(zip, e));
                    if (p != null && !"conflict".equals(foundIn)) {
                        if (found != null && found != p) {
                            found = null;
                            foundIn = "conflict"; // classes disagree: decide nothing
                        } else {
                            found = p;
                            foundIn = n;
                        }
                    }
                } else if (n.startsWith("META-INF/maven/") && n.endsWith("/pom.properties")) {
                    artifact = artifact(new String(read(zip, e), StandardCharsets.ISO_8859_1));
                }
            }
            if (onnx.size() != 1) {
                throw new IOException(jar + ": holds " + onnx.size() + " .onnx files" + names(onnx) + "; convert needs exactly one");
            }
            ZipEntry model = onnx.getFirst();
            String stem = baseName(model.getName()).replaceFirst("\\.onnx$", "");
            ZipEntry tok = null;
            if (tokenizers.size() == 1) {
                tok = tokenizers.getFirst();
            } else {
                for (ZipEntry t : tokenizers) {
                    String b = baseName(t.getName());
                    if (b.equals(stem + "-tokenizer.json") || b.equals(stem + "_tokenizer.json")) tok = t;
                }
            }
            if (tok == null) {
                throw new IOException(jar + ": holds " + tokenizers.size() + " tokenizer.json files" + names(tokenizers)
                        + "; convert needs the one of " + model.getName());
            }
            prov.put("source", jar.toAbsolutePath().normalize().toString());
            if (artifact != null) prov.put("artifact", artifact);
            Pooling p;
            String why;
            if (pooling != null) {
                p = pooling;
                why = "given (--pooling)";
            } else if (found != null) {
                p = found;
                why = "the jar's own (PoolingMode." + found.name() + " in " + foundIn + ")";
            } else {
                p = Pooling.MEAN;
                why = "default (mean; the jar names no PoolingMode" + ("conflict".equals(foundIn) ? " unambiguously" : "") + ")";
            }
            return new Spec(stem, read(zip, model), jar + "!/" + model.getName(), read(zip, tok), jar + "!/" + tok.getName(),
                    p, why, maxSeqLength, prov);
        } catch (ZipException e) {
            throw new IOException(jar + ": not a readable jar/zip file (" + e.getMessage() + ")", e);
        }
    }

    private static String names(List<ZipEntry> es) {
        if (es.isEmpty()) return "";
        List<String> n = new ArrayList<>();
        for (ZipEntry e : es) n.add(e.getName());
        return " (" + String.join(", ", n) + ")";
    }

    private static String baseName(String entry) {
        int slash = entry.lastIndexOf('/');
        return slash < 0 ? entry : entry.substring(slash + 1);
    }

    private static String artifact(String pomProperties) {
        String g = null, a = null, v = null;
        for (String line : pomProperties.split("\n")) {
            String l = line.strip();
            if (l.startsWith("groupId=")) g = l.substring(8);
            else if (l.startsWith("artifactId=")) a = l.substring(11);
            else if (l.startsWith("version=")) v = l.substring(8);
        }
        return g != null && a != null && v != null ? g + ":" + a + ":" + v : null;
    }

    private static byte[] read(ZipFile zip, ZipEntry e) throws IOException {
        try (InputStream in = zip.getInputStream(e)) {
            return in.readAllBytes();
        }
    }

    /**
     * The pooling a langchain4j model class passes: its constant pool names the type
     * {@code .../PoolingMode} and exactly one of the enum constants {@code CLS} / {@code MEAN}
     * (CONSTANT_Utf8 entries: tag 1, two length bytes, the characters).
     */
    static Pooling poolingConstant(byte[] classFile) {
        if (classFile.length < 4 || (classFile[0] & 0xff) != 0xCA || (classFile[1] & 0xff) != 0xFE) return null;
        if (indexOf(classFile, "onnx/PoolingMode".getBytes(StandardCharsets.US_ASCII)) < 0) return null;
        boolean cls = indexOf(classFile, new byte[] {1, 0, 3, 'C', 'L', 'S'}) >= 0;
        boolean mean = indexOf(classFile, new byte[] {1, 0, 4, 'M', 'E', 'A', 'N'}) >= 0;
        return cls == mean ? null : cls ? Pooling.CLS : Pooling.MEAN;
    }

    private static int indexOf(byte[] a, byte[] pat) {
        outer:
        for (int i = 0; i + pat.length <= a.length; i++) {
            for (int j = 0; j < pat.length; j++) {
                if (a[i + j] != pat[j]) continue outer;
            }
            return i;
        }
        return -1;
    }

    /**
     * Writes {@code spec} as the directory {@code target} (absolute) via a temporary sibling and an
     * atomic rename; on failure nothing is left under {@code target}'s name.
     */
    public static Result writeAtomically(Path target, Spec spec, Hook hook) throws IOException {
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path temp = parent.resolve("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
        boolean done = false;
        try {
            Files.createDirectory(temp);
            Result r = writeDirectory(temp, spec, hook);
            AtomicFiles.syncDirectory(temp);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                throw new DirectoryNotEmptyException(target + ": --out appeared while converting; choose a new directory");
            }
            AtomicFiles.syncDirectory(parent);
            done = true;
            return new Result(target, r.name(), r.config(), r.pooling(), r.poolingSource(), r.maxSeqLength(), r.parameters());
        } finally {
            if (!done) DefaultModel.deleteTree(temp);
        }
    }

    /**
     * Imports {@code spec.onnx()} and writes every file of the model directory into the existing
     * empty {@code dir} (not atomic by itself; attn4j_conversion.json is written last).
     */
    public static Result writeDirectory(Path dir, Spec spec, Hook hook) throws IOException {
        OnnxModel model = OnnxModel.parse(spec.onnx(), spec.onnxSource());
        ImportedBert bert = BertOnnxImporter.importBert(model, spec.onnxSource());
        BertConfigValues c = bert.config();
        ObjectNode tokenizer = tokenizerJson(spec.tokenizerJson(), spec.tokenizerSource());
        String[] vocab = vocab(tokenizer, c.vocabSize(), spec.tokenizerSource());
        Map<String, Integer> special = specialIds(vocab, spec.tokenizerSource());
        int maxSeq = spec.maxSeqLength() > 0 ? spec.maxSeqLength() : Math.min(c.maxPositionEmbeddings(), 512);
        if (maxSeq > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("max_seq_length " + maxSeq + " exceeds the model's " + c.maxPositionEmbeddings()
                    + " positions");
        }

        Map<String, Object> config = c.toConfigJson();
        config.put("pad_token_id", special.get("[PAD]"));
        writeJson(dir, "config.json", config, hook);
        Map<String, NDArray> tensors = new LinkedHashMap<>(bert.stateDict()); // sorted by key
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"), SafetensorsDType.F32);
        hook.fileWritten("model.safetensors");
        writeBytes(dir, "tokenizer.json", JSON.writeValueAsBytes(tokenizer), hook);

        JsonNode norm = tokenizer.path("normalizer");
        Map<String, Object> tc = new LinkedHashMap<>();
        tc.put("do_lower_case", norm.path("lowercase").asBoolean(true));
        tc.put("model_max_length", c.maxPositionEmbeddings());
        specialTokens(tc);
        tc.put("tokenize_chinese_chars", norm.path("handle_chinese_chars").asBoolean(true));
        JsonNode strip = norm.get("strip_accents");
        tc.put("strip_accents", strip == null || strip.isNull() ? null : strip.asBoolean());
        tc.put("tokenizer_class", "BertTokenizer");
        writeJson(dir, "tokenizer_config.json", tc, hook);
        Map<String, Object> stm = new LinkedHashMap<>();
        specialTokens(stm);
        writeJson(dir, "special_tokens_map.json", stm, hook);
        StringBuilder vt = new StringBuilder();
        for (String t : vocab) vt.append(t).append('\n');
        writeBytes(dir, "vocab.txt", vt.toString().getBytes(StandardCharsets.UTF_8), hook);

        List<Map<String, Object>> modules = List.of(
                module(0, "", "sentence_transformers.models.Transformer"),
                module(1, "1_Pooling", "sentence_transformers.models.Pooling"),
                module(2, "2_Normalize", "sentence_transformers.models.Normalize"));
        writeJson(dir, "modules.json", modules, hook);
        Map<String, Object> sb = new LinkedHashMap<>();
        sb.put("max_seq_length", maxSeq);
        sb.put("do_lower_case", false);
        writeJson(dir, "sentence_bert_config.json", sb, hook);
        Map<String, Object> pooling = new LinkedHashMap<>();
        pooling.put("word_embedding_dimension", c.hiddenSize());
        pooling.put("pooling_mode_cls_token", spec.pooling() == Pooling.CLS);
        pooling.put("pooling_mode_mean_tokens", spec.pooling() == Pooling.MEAN);
        pooling.put("pooling_mode_max_tokens", false);
        pooling.put("pooling_mode_mean_sqrt_len_tokens", false);
        Files.createDirectory(dir.resolve("1_Pooling"));
        writeJson(dir, "1_Pooling/config.json", pooling, hook);

        Map<String, Object> info = new LinkedHashMap<>();
        info.put("model", spec.name());
        info.putAll(spec.provenance());
        info.put("onnx", spec.onnxSource());
        info.put("onnx_sha256", sha256(spec.onnx()));
        info.put("onnx_producer", model.producerName() + " " + model.producerVersion());
        info.put("tokenizer", spec.tokenizerSource());
        info.put("tokenizer_changes", "truncation and padding removed; sentence_bert_config.json sets max_seq_length " + maxSeq);
        info.put("pooling", spec.pooling().toString());
        info.put("pooling_source", spec.poolingSource());
        info.put("parameters", bert.stateDict().size());
        if (!bert.stateDict().containsKey("pooler.dense.weight")) {
            info.put("pooler", "absent from the export (its graph does not use it): transformers' BertModel and "
                    + "BertForSequenceClassification initialise pooler.dense when they load this directory");
        }
        info.put("skipped_initializers", bert.skipped());
        info.put("config_notes", bert.notes());
        writeJson(dir, "attn4j_conversion.json", info, hook); // written last
        return new Result(dir, spec.name(), c, spec.pooling(), spec.poolingSource(), maxSeq, bert.stateDict().size());
    }

    private static Map<String, Object> module(int idx, String path, String type) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("idx", idx);
        m.put("name", String.valueOf(idx));
        m.put("path", path);
        m.put("type", type);
        return m;
    }

    private static void specialTokens(Map<String, Object> m) {
        for (int i = 0; i < SPECIAL.size(); i++) m.put(SPECIAL_KEYS.get(i), SPECIAL.get(i));
    }

    /** The tokenizer.json without its truncation and fixed-length padding; a WordPiece model is required. */
    static ObjectNode tokenizerJson(byte[] bytes, String source) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(source + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (root == null || !root.isObject() || !root.has("model")) {
            throw new IOException(source + ": not a tokenizer.json object (no 'model')");
        }
        String type = root.path("model").path("type").asText("WordPiece");
        if (!type.equals("WordPiece")) {
            throw new IOException(source + ": model type " + type + "; convert handles BERT WordPiece tokenizers");
        }
        ObjectNode o = (ObjectNode) root;
        o.set("truncation", NullNode.instance);
        o.set("padding", NullNode.instance);
        return o;
    }

    /** The WordPiece vocabulary by id; its size must equal the word embedding's rows. */
    private static String[] vocab(JsonNode tokenizer, int vocabSize, String source) throws IOException {
        JsonNode vocab = tokenizer.path("model").path("vocab");
        if (!vocab.isObject() || vocab.size() != vocabSize) {
            throw new IOException(source + ": model.vocab has " + vocab.size()
                    + " entries, but the word embedding has " + vocabSize + " rows");
        }
        String[] byId = new String[vocabSize];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt(-1);
            if (id < 0 || id >= vocabSize || byId[id] != null) {
                throw new IOException(source + ": model.vocab['" + e.getKey() + "'] has id "
                        + e.getValue() + ", outside 0.." + (vocabSize - 1) + " or taken twice");
            }
            byId[id] = e.getKey();
        }
        return byId;
    }

    private static Map<String, Integer> specialIds(String[] vocab, String source) throws IOException {
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int i = 0; i < vocab.length; i++) {
            if (SPECIAL.contains(vocab[i])) ids.putIfAbsent(vocab[i], i);
        }
        for (String s : SPECIAL) {
            if (!ids.containsKey(s)) throw new IOException(source + ": the vocabulary has no " + s + " token; not a BERT tokenizer");
        }
        return ids;
    }

    private static void writeJson(Path dir, String name, Object value, Hook hook) throws IOException {
        writeBytes(dir, name, JSON.writeValueAsBytes(value), hook);
    }

    private static void writeBytes(Path dir, String name, byte[] bytes, Hook hook) throws IOException {
        try (FileChannel ch = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(true);
        }
        hook.fileWritten(name);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
