package dev.attn4j.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DatesTaskTest {

    @Test
    void everyFormatOfTheIssueExample() {
        LocalDate d = LocalDate.of(2021, 3, 3);
        assertThat(DatesTask.render(d, DatesTask.Format.DAY_MONTH_YEAR)).isEqualTo("3 March 2021");
        assertThat(DatesTask.render(d, DatesTask.Format.MONTH_DAY_COMMA_YEAR)).isEqualTo("March 3, 2021");
        assertThat(DatesTask.render(d, DatesTask.Format.SHORT_MONTH_DAY_COMMA_YEAR)).isEqualTo("Mar 3, 2021");
        assertThat(DatesTask.render(d, DatesTask.Format.DAY_SHORT_MONTH_YEAR)).isEqualTo("3 Mar 2021");
        assertThat(DatesTask.render(d, DatesTask.Format.US_NUMERIC)).isEqualTo("03/03/2021");
        assertThat(DatesTask.render(d, DatesTask.Format.WEEKDAY_MONTH_DAY_COMMA_YEAR)).isEqualTo("Wednesday, March 3, 2021");
        assertThat(DatesTask.render(d, DatesTask.Format.ORDINAL_OF_MONTH_YEAR)).isEqualTo("3rd of March 2021");
        assertThat(DatesTask.render(d, DatesTask.Format.MONTH_ORDINAL_YEAR)).isEqualTo("march 3rd 2021");
        assertThat(DatesTask.render(d, DatesTask.Format.DOTTED_ISO)).isEqualTo("2021.03.03");
        assertThat(DatesTask.iso(d)).isEqualTo("2021-03-03");
        assertThat(List.of(1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31).stream().map(DatesTask::ordinal))
                .containsExactly("1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st");
    }

    /** Parses a source back with java.time, independently of how it was rendered. */
    private static LocalDate parseBack(String source) {
        String s = source.toLowerCase(Locale.ROOT).replaceAll("(\\d)(st|nd|rd|th)", "$1").replace(" of ", " ");
        for (String pattern : List.of("d MMMM yyyy", "MMMM d, yyyy", "MMM d, yyyy", "d MMM yyyy", "MM/dd/yyyy",
                "EEEE, MMMM d, yyyy", "MMMM d yyyy", "yyyy.MM.dd")) {
            DateTimeFormatter f = new DateTimeFormatterBuilder().parseCaseInsensitive().appendPattern(pattern)
                    .toFormatter(Locale.ENGLISH);
            try {
                return LocalDate.parse(s, f);
            } catch (RuntimeException ignored) {
                // try the next form
            }
        }
        throw new AssertionError("no form parses '" + source + "'");
    }

    @Test
    void generatedExamplesAreCorrectReproducibleAndCoverEveryForm() {
        long seed = System.nanoTime();
        List<DatesTask.Example> examples = DatesTask.generate(seed, 3000);
        assertThat(DatesTask.generate(seed, 3000)).isEqualTo(examples);
        Set<DatesTask.Format> seen = EnumSet.noneOf(DatesTask.Format.class);
        boolean upper = false, lower = false;
        CharVocab vocab = CharVocab.dates();
        for (DatesTask.Example e : examples) {
            seen.add(e.format());
            assertThat(parseBack(e.source())).as("seed %d: %s", seed, e.source()).isEqualTo(e.date());
            assertThat(e.target()).isEqualTo(e.date().toString());
            assertThat(e.date()).isBetween(DatesTask.FIRST, DatesTask.LAST);
            upper |= e.source().equals(e.source().toUpperCase(Locale.ROOT)) && e.source().matches(".*[A-Z].*");
            lower |= e.source().matches(".*[a-z].*") && e.source().equals(e.source().toLowerCase(Locale.ROOT));
            assertThat(vocab.encode(e.source())).doesNotContain(CharVocab.UNK);
            assertThat(vocab.decode(vocab.encode(e.source()))).isEqualTo(e.source());
        }
        assertThat(seen).containsExactlyInAnyOrder(DatesTask.Format.values());
        assertThat(upper && lower).isTrue();
    }

    @Test
    void vocabularySpecialsAndErrors() {
        CharVocab v = CharVocab.dates();
        assertThat(v.size()).isEqualTo(4 + CharVocab.DATES_ALPHABET.length());
        assertThat(v.decode(new int[] {CharVocab.BOS, v.encode("2")[0], CharVocab.EOS, v.encode("9")[0]})).isEqualTo("2");
        assertThat(v.encode("2021~")[4]).isEqualTo(CharVocab.UNK);
        assertThatThrownBy(() -> v.token(999)).hasMessageContaining("999");
        assertThatThrownBy(() -> new CharVocab("abca")).hasMessageContaining("repeats 'a'");
    }
}
