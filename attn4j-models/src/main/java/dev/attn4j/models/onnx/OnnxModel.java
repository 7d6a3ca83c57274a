package dev.attn4j.models.onnx;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX model ({@code ModelProto}) read with a small protobuf wire-format reader: IR version,
 * producer, opset imports and the main graph (nodes, initializers, input/output names). Fields the
 * importer has no use for (doc strings, value infos, functions, training info) are skipped.
 * Initializer {@code raw_data} stays a slice of the parsed bytes (no copy), so the bytes or the
 * memory-mapped file must outlive the tensors' use; {@link #read(Path)} maps the file with an
 * automatic arena that lives as long as anything refers to it.
 *
 * @param irVersion       {@code ir_version}
 * @param producerName    e.g. {@code pytorch}
 * @param producerVersion e.g. {@code 1.13.0}
 * @param opsets          opset version by domain ("" is the default ONNX domain)
 * @param graph           the main graph
 */
public record OnnxModel(long irVersion, String producerName, String producerVersion, Map<String, Long> opsets,
                        OnnxGraph graph) {
    /** Copies the opset map. */
    public OnnxModel {
        opsets = Map.copyOf(opsets);
    }

    /**
     * Memory-maps and parses an {@code .onnx} file.
     *
     * @throws OnnxFormatException naming the file and byte offset when it is not a valid ModelProto
     * @throws IOException         when the file cannot be read
     */
    public static OnnxModel read(Path file) throws IOException {
        MemorySegment seg;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            seg = ch.size() == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such ONNX file");
        }
        return parse(seg, file.toString());
    }

    /** Parses the bytes of an ONNX model; {@code source} names it in error messages. */
    public static OnnxModel parse(byte[] bytes, String source) throws OnnxFormatException {
        return parse(MemorySegment.ofArray(bytes), source);
    }

    /** Parses the bytes of an ONNX model held in {@code seg}; {@code source} names it in error messages. */
    public static OnnxModel parse(MemorySegment seg, String source) throws OnnxFormatException {
        if (seg.byteSize() == 0) {
            throw new OnnxFormatException(source, 0, "empty file, expected an ONNX ModelProto");
        }
        ProtoReader r = new ProtoReader(seg, source, "ModelProto", 0, seg.byteSize());
        long ir = 0;
        String producer = "";
        String producerVersion = "";
        Map<String, Long> opsets = new LinkedHashMap<>();
        OnnxGraph graph = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> ir = r.varint();
                case 2 -> producer = r.string();
                case 3 -> producerVersion = r.string();
                case 7 -> {
                    if (graph != null) {
                        throw r.error(r.fieldOffset(), "ModelProto has more than one graph");
                    }
                    graph = parseGraph(r.message("GraphProto"));
                }
                case 8 -> {
                    ProtoReader op = r.message("OperatorSetIdProto");
                    String domain = "";
                    long version = 0;
                    while (op.next()) {
                        switch (op.field()) {
                            case 1 -> domain = op.string();
                            case 2 -> version = op.varint();
                            default -> op.skip();
                        }
                    }
                    opsets.put(domain, version);
                }
                default -> r.skip();
            }
        }
        if (graph == null) {
            throw new OnnxFormatException(source, -1, "no graph in the ModelProto (is this an ONNX model file?)");
        }
        if (ir == 0) {
            throw new OnnxFormatException(source, -1, "ModelProto has no ir_version (is this an ONNX model file?)");
        }
        return new OnnxModel(ir, producer, producerVersion, opsets, graph);
    }

    private static OnnxGraph parseGraph(ProtoReader r) throws OnnxFormatException {
        String name = "";
        List<OnnxNode> nodes = new ArrayList<>();
        Map<String, OnnxTensor> inits = new LinkedHashMap<>();
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> nodes.add(parseNode(r.message("NodeProto")));
                case 2 -> name = r.string();
                case 5 -> {
                    long at = r.fieldOffset();
                    OnnxTensor t = parseTensor(r.message("TensorProto"), at);
                    if (t.name().isEmpty()) {
                        throw r.error(at, "initializer without a name");
                    }
                    if (inits.putIfAbsent(t.name(), t) != null) {
                        throw r.error(at, "two initializers are named '" + t.name() + "'");
                    }
                }
                case 11 -> inputs.add(valueInfoName(r.message("ValueInfoProto")));
                case 12 -> outputs.add(valueInfoName(r.message("ValueInfoProto")));
                default -> r.skip();
            }
        }
        return new OnnxGraph(name, nodes, inits, inputs, outputs);
    }

    private static String valueInfoName(ProtoReader r) throws OnnxFormatException {
        String name = "";
        while (r.next()) {
            if (r.field() == 1) name = r.string();
            else r.skip();
        }
        return name;
    }

    private static OnnxNode parseNode(ProtoReader r) throws OnnxFormatException {
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        String name = "";
        String op = "";
        String domain = "";
        Map<String, OnnxAttribute> attrs = new HashMap<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> in.add(r.string());
                case 2 -> out.add(r.string());
                case 3 -> name = r.string();
                case 4 -> op = r.string();
                case 5 -> {
                    OnnxAttribute a = parseAttribute(r.message("AttributeProto"));
                    attrs.put(a.name(), a);
                }
                case 7 -> domain = r.string();
                default -> r.skip();
            }
        }
        return new OnnxNode(name, op, domain, in, out, attrs);
    }

    private static OnnxAttribute parseAttribute(ProtoReader r) throws OnnxFormatException {
        String name = "";
        float f = 0;
        long i = 0;
        String s = null;
        OnnxTensor t = null;
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        ProtoReader.LongList ints = new ProtoReader.LongList();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> name = r.string();
                case 2 -> f = r.fixed32Float();
                case 3 -> i = r.varint();
                case 4 -> s = r.string();
                case 5 -> {
                    long at = r.fieldOffset();
                    t = parseTensor(r.message("TensorProto"), at);
                }
                case 7 -> r.repeatedFloat(floats);
                case 8 -> r.repeatedVarint(ints);
                default -> r.skip();
            }
        }
        return new OnnxAttribute(name, f, i, s, t, floats.toArray(), ints.toArray());
    }

    private static OnnxTensor parseTensor(ProtoReader r, long at) throws OnnxFormatException {
        ProtoReader.LongList dims = new ProtoReader.LongList();
        int dataTypeCode = 0;
        String name = "";
        MemorySegment raw = null;
        ProtoReader.FloatList floatData = null;
        ProtoReader.LongList int32Data = null;
        ProtoReader.LongList int64Data = null;
        ProtoReader.DoubleList doubleData = null;
        boolean external = false;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> r.repeatedVarint(dims);
                case 2 -> dataTypeCode = r.int32();
                case 3 -> throw r.error(r.fieldOffset(), "segmented tensors (TensorProto.segment) are not supported");
                case 4 -> r.repeatedFloat(floatData == null ? floatData = new ProtoReader.FloatList() : floatData);
                case 5 -> r.repeatedVarint(int32Data == null ? int32Data = new ProtoReader.LongList() : int32Data);
                case 7, 11 -> r.repeatedVarint(int64Data == null ? int64Data = new ProtoReader.LongList() : int64Data);
                case 8 -> name = r.string();
                case 9 -> raw = r.bytes();
                case 10 -> r.repeatedDouble(doubleData == null ? doubleData = new ProtoReader.DoubleList() : doubleData);
                case 14 -> external = r.varint() == 1;
                default -> r.skip();
            }
        }
        OnnxDataType type = OnnxDataType.ofCode(dataTypeCode);
        if (type == null || type == OnnxDataType.UNDEFINED) {
            throw r.error(at, "tensor '" + name + "' has unknown element type " + dataTypeCode);
        }
        return new OnnxTensor(name, type, dims.toArray(), r.source(), at, raw,
                floatData == null ? null : floatData.toArray(),
                int32Data == null ? null : int32Data.toArray(),
                int64Data == null ? null : int64Data.toArray(),
                doubleData == null ? null : doubleData.toArray(), external);
    }
}
