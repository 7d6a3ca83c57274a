package dev.attn4j.spark;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A partition is read a chunk of rows at a time: memory per task is bounded by the chunk, not the partition. */
class TextChunksTest {
    @Test
    void readsAtMostOneChunkAheadAndKeepsRowsInOrder() {
        int rows = 2 * TextStage.ROWS_PER_CHUNK + 5;
        int[] consumed = {0};
        List<Integer> chunkSizes = new ArrayList<>();
        Iterator<Row> input = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return consumed[0] < rows;
            }

            @Override
            public Row next() {
                int i = consumed[0]++;
                return RowFactory.create((long) i, i % 10 == 3 ? null : "t" + i);
            }
        };
        TextStage.TextChunks fn = new TextStage.TextChunks(1, 2,
                List.of(new StructField("len", DataTypes.IntegerType, true, Metadata.empty()))) {
            @Override
            Object[][] compute(List<String> texts) {
                chunkSizes.add(texts.size());
                Object[][] out = new Object[texts.size()][];
                for (int i = 0; i < out.length; i++) out[i] = new Object[] {texts.get(i).length()};
                return out;
            }
        };
        Iterator<Row> out = fn.call(input);
        assertThat(consumed[0]).as("nothing read before the first row is asked for").isZero();
        Row first = out.next();
        assertThat(consumed[0]).isEqualTo(TextStage.ROWS_PER_CHUNK);
        assertThat(first.getLong(0)).isZero();
        assertThat(first.getInt(2)).isEqualTo(2);
        long expectedId = 1;
        while (out.hasNext()) {
            Row r = out.next();
            assertThat(r.getLong(0)).isEqualTo(expectedId);
            assertThat(consumed[0] - expectedId).as("rows read ahead").isLessThanOrEqualTo(TextStage.ROWS_PER_CHUNK);
            if (expectedId % 10 == 3) assertThat(r.isNullAt(1) && r.isNullAt(2)).isTrue();
            else assertThat(r.getInt(2)).isEqualTo(("t" + expectedId).length());
            expectedId++;
        }
        assertThat(expectedId).isEqualTo(rows);
        assertThat(chunkSizes).hasSize(3);
        assertThat(chunkSizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(rows - (rows + 6) / 10);
    }
}
