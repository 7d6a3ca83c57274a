package dev.attn4j.tokenizers;

import java.math.BigDecimal;
import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python semantics that Hugging Face chat templates rely on and a Java Jinja engine does not
 * give: {@code str} methods ({@code strip}, {@code split}, {@code startswith}, ...), {@code str()}
 * and {@code repr()} of values, {@code json.dumps} as transformers' {@code tojson} filter calls it,
 * slicing with negative indices and steps, and {@code strftime}.
 */
final class Py {
    private Py() {
    }

    /** Python's str.isspace for one char. */
    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85 || (c >= 0x1C && c <= 0x1F);
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int a = 0;
        int b = s.length();
        while (left && a < b && (chars == null ? isSpace(s.charAt(a)) : chars.indexOf(s.charAt(a)) >= 0)) {
            a++;
        }
        while (right && b > a && (chars == null ? isSpace(s.charAt(b - 1)) : chars.indexOf(s.charAt(b - 1)) >= 0)) {
            b--;
        }
        return s.substring(a, b);
    }

    /** str.split(sep, maxsplit): sep null splits on whitespace runs and drops empty parts. */
    static List<String> split(String s, String sep, int maxSplit) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isSpace(s.charAt(i))) {
                    i++;
                }
                if (i >= n) {
                    break;
                }
                if (maxSplit >= 0 && out.size() == maxSplit) {
                    out.add(strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < n && !isSpace(s.charAt(j))) {
                    j++;
                }
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        int i = 0;
        while (maxSplit < 0 || out.size() < maxSplit) {
            int j = s.indexOf(sep, i);
            if (j < 0) {
                break;
            }
            out.add(s.substring(i, j));
            i = j + sep.length();
        }
        out.add(s.substring(i));
        return out;
    }

    static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
            if (cased) {
                sb.appendCodePoint(prevCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            } else {
                sb.appendCodePoint(c);
            }
            prevCased = cased;
            i += Character.charCount(c);
        }
        return sb.toString();
    }

    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int c = s.codePointAt(0);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(c))
                .append(s.substring(Character.charCount(c)).toLowerCase(Locale.ROOT)).toString();
    }

    /** Python truthiness. */
    static boolean truthy(Object o) {
        if (o == null) {
            return false;
        }
        if (o instanceof Boolean b) {
            return b;
        }
        if (o instanceof Number n) {
            return n.doubleValue() != 0;
        }
        if (o instanceof CharSequence cs) {
            return cs.length() > 0;
        }
        if (o instanceof Collection<?> c) {
            return !c.isEmpty();
        }
        if (o instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    /** Python's slice indices of {@code [start:stop:step]} over a length (nulls for omitted parts). */
    static List<Integer> sliceIndices(int len, Long start, Long stop, Long step) {
        long st = step == null ? 1 : step;
        if (st == 0) {
            throw new IllegalArgumentException("slice step cannot be zero");
        }
        long a;
        long b;
        if (st > 0) {
            a = start == null ? 0 : clamp(start < 0 ? start + len : start, 0, len);
            b = stop == null ? len : clamp(stop < 0 ? stop + len : stop, 0, len);
        } else {
            a = start == null ? len - 1 : clamp(start < 0 ? start + len : start, -1, len - 1);
            b = stop == null ? -1 : clamp(stop < 0 ? stop + len : stop, -1, len - 1);
        }
        List<Integer> out = new ArrayList<>();
        for (long i = a; st > 0 ? i < b : i > b; i += st) {
            out.add((int) i);
        }
        return out;
    }

    private static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    // ---------------------------------------------------------------- str() and repr()

    /** Python's str() of a value, as {@code {{ x }}} prints it (null prints nothing, as undefined does). */
    static String str(Object o) {
        if (o == null) {
            return "";
        }
        if (o instanceof CharSequence cs) {
            return cs.toString();
        }
        return repr(o);
    }

    static String repr(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (o instanceof Double || o instanceof Float) {
            return floatRepr(((Number) o).doubleValue());
        }
        if (o instanceof Number n) {
            return n.toString();
        }
        if (o instanceof CharSequence cs) {
            return stringRepr(cs.toString());
        }
        if (o instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(", ");
                }
                first = false;
                sb.append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
            }
            return sb.append('}').toString();
        }
        if (o instanceof Iterable<?> it) {
            StringBuilder sb = new StringBuilder("[");
            boolean first = true;
            for (Object x : it) {
                if (!first) {
                    sb.append(", ");
                }
                first = false;
                sb.append(repr(x));
            }
            return sb.append(']').toString();
        }
        return o.toString();
    }

    private static String stringRepr(String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(q);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == q) {
                        sb.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7F) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append(q).toString();
    }

    /** Python's repr of a float: the shortest round-trip digits, fixed for 1e-4 <= |x| < 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = bd.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }

    // ---------------------------------------------------------------- json.dumps

    /**
     * {@code json.dumps(x, ensure_ascii, indent, separators, sort_keys)} as transformers' tojson
     * filter calls it (ensure_ascii defaults to False there).
     */
    static String jsonDumps(Object x, boolean ensureAscii, Integer indent, String itemSep, String keySep,
            boolean sortKeys) {
        if (itemSep == null) {
            itemSep = indent == null ? ", " : ",";
        }
        if (keySep == null) {
            keySep = ": ";
        }
        StringBuilder sb = new StringBuilder();
        json(sb, x, ensureAscii, indent, itemSep, keySep, sortKeys, 0);
        return sb.toString();
    }

    private static void newline(StringBuilder sb, Integer indent, int level) {
        if (indent != null) {
            sb.append('\n');
            sb.append(" ".repeat(indent * level));
        }
    }

    private static void json(StringBuilder sb, Object x, boolean ascii, Integer indent, String itemSep, String keySep,
            boolean sortKeys, int level) {
        if (x == null) {
            sb.append("null");
        } else if (x instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (x instanceof Double || x instanceof Float) {
            double d = ((Number) x).doubleValue();
            sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity")
                    : floatRepr(d));
        } else if (x instanceof Number n) {
            sb.append(n.toString());
        } else if (x instanceof CharSequence cs) {
            jsonString(sb, cs.toString(), ascii);
        } else if (x instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sortKeys) {
                entries.sort((p, q) -> String.valueOf(p.getKey()).compareTo(String.valueOf(q.getKey())));
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                if (!first) {
                    sb.append(itemSep);
                }
                first = false;
                newline(sb, indent, level + 1);
                Object k = e.getKey();
                jsonString(sb, k instanceof CharSequence ? k.toString() : k == null ? "null"
                        : k instanceof Boolean b ? (b ? "true" : "false") : str(k), ascii);
                sb.append(keySep);
                json(sb, e.getValue(), ascii, indent, itemSep, keySep, sortKeys, level + 1);
            }
            newline(sb, indent, level);
            sb.append('}');
        } else if (x instanceof Iterable<?> it) {
            Iterator<?> i = it.iterator();
            if (!i.hasNext()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            boolean first = true;
            while (i.hasNext()) {
                if (!first) {
                    sb.append(itemSep);
                }
                first = false;
                newline(sb, indent, level + 1);
                json(sb, i.next(), ascii, indent, itemSep, keySep, sortKeys, level + 1);
            }
            newline(sb, indent, level);
            sb.append(']');
        } else {
            throw new IllegalArgumentException("Object of type " + x.getClass().getSimpleName()
                    + " is not JSON serializable");
        }
    }

    private static void jsonString(StringBuilder sb, String s, boolean ascii) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || (ascii && c > 0x7E)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    // ---------------------------------------------------------------- strftime

    /** C strftime directives (the common ones) on a local date-time, in the C/English locale. */
    static String strftime(String format, LocalDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                sb.append(c);
                continue;
            }
            char d = format.charAt(++i);
            switch (d) {
                case 'd' -> sb.append(String.format("%02d", t.getDayOfMonth()));
                case 'e' -> sb.append(String.format("%2d", t.getDayOfMonth()));
                case 'm' -> sb.append(String.format("%02d", t.getMonthValue()));
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(String.format("%02d", t.getYear() % 100));
                case 'b', 'h' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'H' -> sb.append(String.format("%02d", t.getHour()));
                case 'I' -> sb.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'M' -> sb.append(String.format("%02d", t.getMinute()));
                case 'S' -> sb.append(String.format("%02d", t.getSecond()));
                case 'j' -> sb.append(String.format("%03d", t.getDayOfYear()));
                case 'f' -> sb.append(String.format("%06d", t.getNano() / 1000));
                case 'F' -> sb.append(String.format("%d-%02d-%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth()));
                case 'T' -> sb.append(String.format("%02d:%02d:%02d", t.getHour(), t.getMinute(), t.getSecond()));
                case '%' -> sb.append('%');
                default -> throw new IllegalArgumentException("strftime directive %" + d + " is not supported");
            }
        }
        return sb.toString();
    }
}
