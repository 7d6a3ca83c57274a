package dev.attn4j.spark;

import dev.attn4j.models.sentence.SentenceTokenizer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** TokenCounter: the model tokenizer's token count per text, special tokens included, before truncation. */
class TokenCounterTest {
    @Test
    void countsTokensBeforeTruncation() throws Exception {
        SparkSession spark = LocalSpark.session();
        List<String> texts = new ArrayList<>(Texts.sentences(30, 5));
        texts.add("spark ".repeat(300).trim());                                         // 302 tokens > max_seq_length 256
        List<Row> rows = new TokenCounter().transform(Texts.table(spark, texts, 3).repartition(2)).orderBy("id").collectAsList();
        SentenceTokenizer tok = SentenceTokenizer.load(ModelLocation.builtIn());
        for (int i = 0; i < texts.size(); i++) {
            if (i == 3) {
                assertThat(rows.get(i).isNullAt(2)).isTrue();
                continue;
            }
            int want = tok.withMaxSeqLength(512).encode(texts.get(i)).length();
            assertThat(rows.get(i).getInt(2)).as("'%s'", texts.get(i)).isEqualTo(want);
        }
        assertThat(rows.get(0).getInt(2)).as("the empty text: [CLS] [SEP]").isEqualTo(2);
        assertThat(rows.getLast().getInt(2)).isEqualTo(302);
        assertThat(tok.maxSeqLength()).isEqualTo(256);
    }
}
