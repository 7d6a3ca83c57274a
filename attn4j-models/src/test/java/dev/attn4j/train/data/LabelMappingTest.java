package dev.attn4j.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LabelMappingTest {
    private static final JsonMapper JSON = new JsonMapper();

    @Test
    void integerLabelsSortNumerically() {
        LabelMapping m = LabelMapping.fromLabels(List.of("1", "0", "10", "2", "9", "1"));
        assertThat(m.names()).containsExactly("0", "1", "2", "9", "10");
        // 0..n-1 map to themselves
        LabelMapping sst5 = LabelMapping.fromLabels(List.of("3", "4", "0", "2", "1"));
        for (int i = 0; i < 5; i++) assertThat(sst5.idOrMinusOne(Integer.toString(i))).isEqualTo(i);
        // AG News labels 1..4 become 0..3, named as the file spells them
        LabelMapping ag = LabelMapping.fromLabels(List.of("3", "1", "4", "2"));
        assertThat(ag.id2label()).containsExactly(Map.entry("0", "1"), Map.entry("1", "2"), Map.entry("2", "3"), Map.entry("3", "4"));
        assertThat(LabelMapping.fromLabels(List.of("1", "-1")).names()).containsExactly("-1", "1");
        assertThatThrownBy(() -> LabelMapping.fromLabels(List.of("1", "01"))).hasMessageContaining("'1' and '01' are the same integer");
    }

    @Test
    void stringLabelsSortByCodePoint() {
        LabelMapping m = LabelMapping.fromLabels(List.of("positive", "neutral", "negative", "Neutral", "positive"));
        assertThat(m.names()).containsExactly("Neutral", "negative", "neutral", "positive");
        // mixed integers and names are strings: "10" < "9" < "a"
        assertThat(LabelMapping.fromLabels(List.of("a", "9", "10")).names()).containsExactly("10", "9", "a");
        // U+FF5E (BMP) sorts before U+1F600 by code point; by UTF-16 unit it would sort after (0xD83D < 0xFF5E)
        assertThat(LabelMapping.fromLabels(List.of("\uD83D\uDE00", "\uFF5E")).names()).containsExactly("\uFF5E", "\uD83D\uDE00");
    }

    @Test
    void unknownLabelNamesFileLineAndLabels() {
        LabelMapping m = LabelMapping.fromLabels(List.of("negative", "positive"));
        Path dev = Path.of("dev.csv");
        List<LabeledExample> rows = List.of(new LabeledExample("a", null, "positive", 2), new LabeledExample("b", null, "neutral", 3));
        assertThatThrownBy(() -> m.ids(rows, dev)).isInstanceOf(DataFileException.class)
                .hasMessage("dev.csv:3: unknown label 'neutral' (the model's labels are 'negative', 'positive')");
        assertThat(m.ids(rows.subList(0, 1), dev)).containsExactly(1);
        assertThat(m.idOrMinusOne("neutral")).isEqualTo(-1);
    }

    @Test
    void configRoundTripAsTransformersWritesIt() throws Exception {
        LabelMapping m = LabelMapping.fromLabels(List.of("pos", "neg"));
        ObjectNode config = JSON.createObjectNode();
        config.put("model_type", "bert");
        m.writeTo(config);
        // transformers' config.json: id2label keys are strings, label2id values integers
        assertThat(JSON.writeValueAsString(config)).isEqualTo(
                "{\"model_type\":\"bert\",\"id2label\":{\"0\":\"neg\",\"1\":\"pos\"},\"label2id\":{\"neg\":0,\"pos\":1}}");
        assertThat(LabelMapping.fromConfig(config)).isEqualTo(m);
        assertThat(LabelMapping.fromConfig(JSON.createObjectNode())).isNull();

        JsonNode placeholder = JSON.readTree("{\"id2label\":{\"1\":\"LABEL_1\",\"0\":\"LABEL_0\"},\"label2id\":{\"LABEL_0\":0,\"LABEL_1\":1}}");
        LabelMapping p = LabelMapping.fromConfig(placeholder);
        assertThat(p.names()).containsExactly("LABEL_0", "LABEL_1");
        assertThat(p.isDefaultNames()).isTrue();
        assertThat(m.isDefaultNames()).isFalse();

        assertThatThrownBy(() -> LabelMapping.fromConfig(JSON.readTree("{\"id2label\":{\"0\":\"a\",\"2\":\"b\"}}")))
                .hasMessageContaining("ids must be 0..1, found 2");
        assertThatThrownBy(() -> LabelMapping.fromConfig(JSON.readTree("{\"id2label\":{\"0\":\"a\",\"1\":\"b\"},\"label2id\":{\"a\":1,\"b\":0}}")))
                .hasMessageContaining("label2id['a'] = 1 disagrees with id2label");
        assertThatThrownBy(() -> LabelMapping.of(List.of("a", "a"))).hasMessageContaining("'a' is given twice");
    }

    @Test
    void forTrainingPrefersTheModelsNamedClasses() throws Exception {
        Path f = Path.of("train.jsonl");
        List<LabeledExample> train = List.of(new LabeledExample("a", null, "positive", 1), new LabeledExample("b", null, "negative", 2));
        // a fine-tuned model's classes keep their ids, even where sorting would differ
        JsonNode tuned = JSON.readTree("{\"id2label\":{\"0\":\"positive\",\"1\":\"negative\",\"2\":\"neutral\"}}");
        assertThat(LabelMapping.forTraining(tuned, train, f).names()).containsExactly("positive", "negative", "neutral");
        // placeholders or no mapping: the data's own sorted mapping
        JsonNode base = JSON.readTree("{\"id2label\":{\"0\":\"LABEL_0\",\"1\":\"LABEL_1\"}}");
        assertThat(LabelMapping.forTraining(base, train, f).names()).containsExactly("negative", "positive");
        assertThat(LabelMapping.forTraining(null, train, f).names()).containsExactly("negative", "positive");
        JsonNode other = JSON.readTree("{\"id2label\":{\"0\":\"neg\",\"1\":\"pos\"}}");
        assertThatThrownBy(() -> LabelMapping.forTraining(other, train, f)).isInstanceOf(DataFileException.class)
                .hasMessage("train.jsonl:1: unknown label 'positive' (the model's labels are 'neg', 'pos')");
    }

    @Test
    void evalSplitIsSeededDisjointAndSized() {
        List<LabeledExample> rows = new ArrayList<>();
        for (int i = 0; i < 101; i++) rows.add(new LabeledExample("t" + i, null, Integer.toString(i % 3), i + 1));
        EvalSplit.Split a = EvalSplit.split(rows, 0.1, 42);
        EvalSplit.Split b = EvalSplit.split(rows, 0.1, 42);
        EvalSplit.Split c = EvalSplit.split(rows, 0.1, 43);
        assertThat(a).isEqualTo(b);
        assertThat(a.eval()).hasSize(11);                   // ceil(0.1 * 101)
        assertThat(a.train()).hasSize(90);
        assertThat(c.eval()).isNotEqualTo(a.eval());
        Set<LabeledExample> all = new HashSet<>(a.train());
        all.addAll(a.eval());
        assertThat(all).hasSize(101);
        // each part in file order
        assertThat(a.eval()).isSortedAccordingTo((x, y) -> Long.compare(x.line(), y.line()));
        assertThat(a.train()).isSortedAccordingTo((x, y) -> Long.compare(x.line(), y.line()));
        // the fraction is what it says over many seeds: every row lands in eval about 10% of the time
        Map<Long, Integer> hits = new LinkedHashMap<>();
        for (long s = 0; s < 2000; s++) {
            for (LabeledExample e : EvalSplit.split(rows, 0.1, s).eval()) hits.merge(e.line(), 1, Integer::sum);
        }
        assertThat(hits).hasSize(101);
        assertThat(hits.values()).allSatisfy(h -> assertThat(h).isBetween(150, 300)); // mean 217.8
        assertThatThrownBy(() -> EvalSplit.split(rows, 1.0, 1)).hasMessageContaining("between 0 and 1");
        assertThatThrownBy(() -> EvalSplit.split(rows.subList(0, 1), 0.5, 1)).hasMessageContaining("leaves no training rows");
    }
}
