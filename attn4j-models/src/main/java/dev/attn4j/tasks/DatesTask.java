package dev.attn4j.tasks;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.Month;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The "dates" task: normalise an English date to ISO 8601. Sources are drawn uniformly from
 * 1900-01-01 .. 2099-12-31, written in one of {@link Format}'s forms, with random letter case
 * (the task is case-insensitive); the target is {@code yyyy-MM-dd}.
 */
public final class DatesTask {
    public static final LocalDate FIRST = LocalDate.of(1900, 1, 1);
    public static final LocalDate LAST = LocalDate.of(2099, 12, 31);

    /** The source forms, each with an example for 2021-03-03. */
    public enum Format {
        /** 3 March 2021 */
        DAY_MONTH_YEAR,
        /** March 3, 2021 */
        MONTH_DAY_COMMA_YEAR,
        /** Mar 3, 2021 */
        SHORT_MONTH_DAY_COMMA_YEAR,
        /** 3 Mar 2021 */
        DAY_SHORT_MONTH_YEAR,
        /** 03/03/2021 (month/day/year) */
        US_NUMERIC,
        /** Wednesday, March 3, 2021 */
        WEEKDAY_MONTH_DAY_COMMA_YEAR,
        /** 3rd of March 2021 */
        ORDINAL_OF_MONTH_YEAR,
        /** march 3rd 2021 */
        MONTH_ORDINAL_YEAR,
        /** 2021.03.03 */
        DOTTED_ISO;
    }

    /** One example: the source text, its ISO target, and what it was made from. */
    public record Example(String source, String target, LocalDate date, Format format) {
    }

    private DatesTask() {
    }

    /** {@code n} examples from a generator seeded with {@code seed} (same seed, same examples). */
    public static List<Example> generate(long seed, int n) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(sample(rng));
        return out;
    }

    /** One random example. */
    public static Example sample(SplittableRandom rng) {
        long days = LAST.toEpochDay() - FIRST.toEpochDay() + 1;
        LocalDate date = LocalDate.ofEpochDay(FIRST.toEpochDay() + rng.nextLong(days));
        Format format = Format.values()[rng.nextInt(Format.values().length)];
        String text = randomCase(rng, render(date, format));
        return new Example(text, iso(date), date, format);
    }

    /** The ISO 8601 form, yyyy-MM-dd. */
    public static String iso(LocalDate date) {
        return String.format(Locale.ROOT, "%04d-%02d-%02d", date.getYear(), date.getMonthValue(), date.getDayOfMonth());
    }

    /** {@code date} written in {@code format}, in its canonical case. */
    public static String render(LocalDate date, Format format) {
        int d = date.getDayOfMonth(), m = date.getMonthValue(), y = date.getYear();
        String month = monthName(date.getMonth(), TextStyle.FULL);
        String mon = monthName(date.getMonth(), TextStyle.SHORT);
        return switch (format) {
            case DAY_MONTH_YEAR -> d + " " + month + " " + y;
            case MONTH_DAY_COMMA_YEAR -> month + " " + d + ", " + y;
            case SHORT_MONTH_DAY_COMMA_YEAR -> mon + " " + d + ", " + y;
            case DAY_SHORT_MONTH_YEAR -> d + " " + mon + " " + y;
            case US_NUMERIC -> String.format(Locale.ROOT, "%02d/%02d/%04d", m, d, y);
            case WEEKDAY_MONTH_DAY_COMMA_YEAR -> weekday(date.getDayOfWeek()) + ", " + month + " " + d + ", " + y;
            case ORDINAL_OF_MONTH_YEAR -> ordinal(d) + " of " + month + " " + y;
            case MONTH_ORDINAL_YEAR -> month.toLowerCase(Locale.ROOT) + " " + ordinal(d) + " " + y;
            case DOTTED_ISO -> String.format(Locale.ROOT, "%04d.%02d.%02d", y, m, d);
        };
    }

    /** "1st", "2nd", "3rd", "4th", ..., "11th", "12th", "13th", "21st", "22nd", "23rd", "31st". */
    public static String ordinal(int day) {
        int mod100 = day % 100, mod10 = day % 10;
        String suffix = mod100 >= 11 && mod100 <= 13 ? "th" : mod10 == 1 ? "st" : mod10 == 2 ? "nd" : mod10 == 3 ? "rd" : "th";
        return day + suffix;
    }

    private static String monthName(Month month, TextStyle style) {
        // English three-letter abbreviations ("Sep", not the CLDR "Sept").
        String full = month.getDisplayName(TextStyle.FULL, Locale.ENGLISH);
        return style == TextStyle.FULL ? full : full.substring(0, 3);
    }

    private static String weekday(DayOfWeek day) {
        return day.getDisplayName(TextStyle.FULL, Locale.ENGLISH);
    }

    /** As written (60%), all lower case (20%) or all upper case (20%). */
    private static String randomCase(SplittableRandom rng, String s) {
        int r = rng.nextInt(10);
        if (r < 6) return s;
        return r < 8 ? s.toLowerCase(Locale.ROOT) : s.toUpperCase(Locale.ROOT);
    }
}
