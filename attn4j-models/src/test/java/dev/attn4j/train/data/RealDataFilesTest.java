package dev.attn4j.train.data;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real files in ../shared/data read with the counts its README gives (skipped when the shared
 * folder is absent, as on CI).
 */
class RealDataFilesTest {
    static Path data() {
        Path here = Path.of("").toAbsolutePath();
        Path root = here.getFileName().toString().startsWith("attn4j-") ? here.getParent() : here;
        return root.resolve("../shared/data").normalize();
    }

    private static Path file(String rel) {
        Path p = data().resolve(rel);
        assumeTrue(Files.isRegularFile(p), "shared data file not present: " + p);
        return p;
    }

    private static Map<String, Integer> counts(List<LabeledExample> rows) {
        Map<String, Integer> m = new TreeMap<>();
        for (LabeledExample e : rows) m.merge(e.label(), 1, Integer::sum);
        return m;
    }

    @Test
    void sst2() {
        Path train = file("sst2/stsa.binary.train");
        List<LabeledExample> rows = DataFiles.read(train, DataOptions.forFile(train));
        assertThat(rows).hasSize(6920);
        assertThat(counts(rows)).isEqualTo(Map.of("0", 3310, "1", 3610));
        assertThat(rows).allSatisfy(e -> assertThat(e.text()).isNotBlank().doesNotEndWith(" ").doesNotContain("\n", "\r"));
        assertThat(rows.getLast().line()).isEqualTo(6920);
        Path dev = file("sst2/stsa.binary.dev");
        assertThat(counts(DataFiles.read(dev, DataOptions.forFile(dev)))).isEqualTo(Map.of("0", 428, "1", 444));
        Path test = file("sst2/stsa.binary.test");
        List<LabeledExample> t = DataFiles.read(test, DataOptions.forFile(test));
        assertThat(counts(t)).isEqualTo(Map.of("0", 912, "1", 909));
        // the whole chain the trainer uses: mapping from train, ids of dev/test
        LabelMapping m = LabelMapping.fromExamples(rows);
        assertThat(m.names()).containsExactly("0", "1");
        assertThat(m.ids(t, test)).hasSize(1821);
    }

    @Test
    void sst5AccentsAreUtf8() {
        Path train = file("sst5/stsa.fine.train");
        List<LabeledExample> rows = DataFiles.read(train, DataOptions.forFile(train));
        assertThat(counts(rows)).isEqualTo(Map.of("0", 1092, "1", 2218, "2", 1624, "3", 2322, "4", 1288));
        assertThat(rows.get(9).text()).startsWith("béart and berling");
        Path test = file("sst5/stsa.fine.test");
        assertThat(DataFiles.read(test, DataOptions.forFile(test))).hasSize(2210)
                .anySatisfy(e -> assertThat(e.text()).contains("crème brûlée"));
    }

    @Test
    void mrIsWindows1252AndKeepsItsLines() {
        Path mr = file("mr/rt-polarity.all");
        DataFileException e = org.junit.jupiter.api.Assertions.assertThrows(DataFileException.class,
                () -> DataFiles.read(mr, DataOptions.forFile(mr)));
        assertThat(e.line()).isPositive();
        assertThat(e.getMessage()).contains("not valid UTF-8");
        List<LabeledExample> rows = DataFiles.read(mr, DataOptions.forFile(mr).withEncoding("windows-1252"));
        assertThat(rows).hasSize(10662);
        assertThat(counts(rows)).isEqualTo(Map.of("0", 5331, "1", 5331));
        assertThat(rows.getLast().line()).isEqualTo(10662);
        assertThat(rows).anySatisfy(x -> assertThat(x.text()).contains("\u2026")); // 0x85 is "…"
        // Latin-1 decodes 0x85 as U+0085 (NEL), which must not split lines either
        List<LabeledExample> latin1 = DataFiles.read(mr, DataOptions.forFile(mr).withEncoding("ISO-8859-1"));
        assertThat(latin1).hasSize(10662);
        Path subj = file("subj/subj.all");
        assertThat(counts(DataFiles.read(subj, DataOptions.forFile(subj).withEncoding("windows-1252"))))
                .isEqualTo(Map.of("0", 5000, "1", 5000));
    }

    @Test
    void chnSentiCorp() {
        DataOptions review = DataOptions.defaults().withTextColumn("review");
        Path all = file("chnsenticorp/ChnSentiCorp_htl_all.csv");
        List<LabeledExample> rows = DataFiles.read(all, review);
        assertThat(rows).hasSize(7766);
        assertThat(counts(rows)).isEqualTo(Map.of("1", 5322, "0", 2444));
        // data row 6,375 (file line 6,376) is "0," with an empty review
        LabeledExample empty = rows.get(6374);
        assertThat(empty.text()).isEmpty();
        assertThat(empty.label()).isEqualTo("0");
        assertThat(empty.line()).isEqualTo(6376);
        assertThat(rows.stream().filter(x -> x.text().isEmpty()).count()).isEqualTo(1);
        assertThat(rows.stream().filter(x -> x.text().contains(",")).count()).isPositive();

        Map<String, Map<String, Integer>> expected = Map.of(
                "train", Map.of("1", 4257, "0", 1955),
                "dev", Map.of("1", 532, "0", 244),
                "test", Map.of("1", 533, "0", 245));
        int total = 0;
        for (var e : expected.entrySet()) {
            Path f = file("chnsenticorp/" + e.getKey() + ".csv");
            List<LabeledExample> split = DataFiles.read(f, review);
            assertThat(counts(split)).as(e.getKey()).isEqualTo(e.getValue());
            assertThat(split.getLast().line()).isEqualTo(split.size() + 1); // one record a line
            total += split.size();
            if (e.getKey().equals("train")) assertThat(split).anySatisfy(x -> assertThat(x.text()).isEmpty());
        }
        assertThat(total).isEqualTo(7766);
    }

    @Test
    void agNewsCrlfWithoutFinalNewline() {
        Path f = file("agnews-test/test.csv");
        List<LabeledExample> rows = DataFiles.read(f, DataOptions.forFile(f).withTextColumn("title").withTextPairColumn("description"));
        assertThat(rows).hasSize(7600);
        assertThat(counts(rows)).isEqualTo(Map.of("1", 1900, "2", 1900, "3", 1900, "4", 1900));
        assertThat(rows).allSatisfy(e -> assertThat(e.textPair()).doesNotEndWith("\r"));
        assertThat(rows).anySatisfy(e -> assertThat(e.text()).contains("Giddy Phelps Touches Gold for First Time"));
    }
}
