package dev.attn4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Against transformers' StopStringCriteria (generation/stop_strings.json): the first prefix at which it fires. */
class StopStringsTest {
    private static final JsonNode REF = References.load("stop_strings.json");

    @Test
    void firesAtTheSameTokenAsTransformers() {
        List<String> tokens = new ArrayList<>();
        for (JsonNode t : REF.get("tokens")) tokens.add(t.asText());
        List<String> stops = new ArrayList<>();
        for (JsonNode s : REF.get("stop_strings")) stops.add(s.asText());
        StopStrings matcher = new StopStrings(stops, tokens::get);
        int fired = 0;
        for (JsonNode c : REF.get("cases")) {
            int[] ids = References.ints(c.get("ids"));
            Integer first = null;
            for (int n = 1; n <= ids.length && first == null; n++) if (matcher.match(ids, n) != null) first = n;
            JsonNode want = c.get("stops_at");
            assertThat(first).as("ids %s", c.get("ids")).isEqualTo(want.isNull() ? null : want.intValue());
            if (first != null) fired++;
        }
        assertThat(fired).isGreaterThan(10);
    }

    @Test
    void reportsWhichStringMatchedAndOnlyAtTheEnd() {
        List<String> vocab = List.of("st", "op", "at", "las", "topper");
        StopStrings m = new StopStrings(List.of("stop"), vocab::get);
        assertThat(m.match(new int[] {0, 1}, 2)).isEqualTo("stop");
        assertThat(m.match(new int[] {3, 4}, 2)).isEqualTo("stop");          // runs off both ends
        assertThat(m.match(new int[] {0, 1, 2}, 3)).isNull();                // the stop string is in the past
        assertThatThrownBy(() -> new StopStrings(List.of(""), vocab::get)).hasMessageContaining("empty");
        assertThatThrownBy(() -> new StopStrings(List.of("x"), null)).hasMessageContaining("decoder");
    }
}
