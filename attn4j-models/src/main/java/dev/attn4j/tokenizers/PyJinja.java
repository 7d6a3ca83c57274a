package dev.attn4j.tokenizers;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import java.beans.FeatureDescriptor;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * A Jinjava engine set up to render Hugging Face chat templates as Python's jinja2 does under
 * transformers' {@code _compile_jinja_template}: {@code trim_blocks} and {@code lstrip_blocks}
 * on, the single trailing newline of the template dropped ({@code keep_trailing_newline=False}),
 * no re-rendering of output that contains {@code {{}}, the globals {@code raise_exception} and
 * {@code strftime_now}, a {@code tojson} filter that is {@code json.dumps(x, ensure_ascii=False)},
 * the {@code generation} block tag (rendered as its body), Python's {@code str} methods on strings,
 * Python slicing ({@code messages[::-1]}) and Python's printing of values ({@code True},
 * {@code [1, 'a']}). Where Jinjava parses or runs a construct differently from jinja2 (a unary
 * {@code not}, keyword arguments, loop filters, for-else, {@code lstrip_blocks}, {@code is defined}
 * on a None value), {@link #prepare} rewrites the template into one it runs as jinja2 does.
 *
 * <p>Known differences that remain: Jinjava has one null for Python's None and for undefined, so
 * {@code {{ none }}} prints nothing (jinja2: "None"), iterating None renders nothing (jinja2 raises
 * TypeError), and {@code x is none} is true for an undefined {@code x}; string repetition
 * ({@code 'ab' * 2}) is not supported; {@code {% generation %}} renders its body without
 * tracking assistant masks.
 */
final class PyJinja {
    private PyJinja() {
    }

    /** What {@code raise_exception} was called with during the current render on this thread. */
    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    private static final Jinjava ENGINE = create();

    /** The message a template passed to raise_exception, surfaced by {@link #render}. */
    static final class Raised extends RuntimeException {
        Raised(String message) {
            super(message);
        }
    }

    /** The global {@code raise_exception(message)}: stops rendering with the template's message. */
    public static String raiseException(Object message) {
        String m = String.valueOf(message);
        RAISED.set(m);
        throw new Raised(m);
    }

    /** The global {@code strftime_now(format)}: the local time now, formatted as Python's strftime. */
    public static String strftimeNow(String format) {
        return Py.strftime(format, LocalDateTime.now());
    }

    /**
     * {@code name is defined} as jinja2 answers it: a variable bound to None is defined (Jinjava
     * reads both as null and says undefined); {@code jinjava} is Jinjava's own answer.
     */
    public static boolean definedName(String name, Object jinjava) {
        if (Py.truthy(jinjava)) {
            return true;
        }
        JinjavaInterpreter interp = JinjavaInterpreter.getCurrent();
        if (interp == null) {
            return false;
        }
        for (com.hubspot.jinjava.util.ScopeMap<String, Object> m = interp.getContext(); m != null; m = m.getParent()) {
            if (m.getScope().containsKey(name)) {
                return true;
            }
        }
        return false;
    }

    /** {@code parent.key is defined} / {@code parent['key'] is defined}: a key bound to None is defined. */
    public static boolean definedKey(Object parent, Object key, Object jinjava) {
        if (parent instanceof Map<?, ?> m) {
            return m.containsKey(key instanceof Number n ? (Object) n.longValue() : String.valueOf(key))
                    || m.containsKey(String.valueOf(key));
        }
        if (parent instanceof List<?> l && key instanceof Number n) {
            long i = n.longValue();
            return i >= -l.size() && i < l.size();
        }
        return Py.truthy(jinjava);
    }

    private static Jinjava create() {
        LegacyOverrides overrides = LegacyOverrides.newBuilder()
                .withEvaluateMapKeys(true)
                .withIterateOverMapKeys(true)
                .withParseWhitespaceControlStrictly(true)
                .withUseTrimmingForNotesAndExpressions(true)
                .withKeepNullableLoopValues(true)
                .build();
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(false) // done in prepare(): Jinjava strips before tags mid-line too
                .withNestedInterpretationEnabled(false)
                .withLegacyOverrides(overrides)
                .withElResolver(resolver)
                .withInterperterFactory(new PythonInterpreterFactory())
                .build();
        Jinjava j = new Jinjava(config);
        Context g = j.getGlobalContext();
        g.registerFunction(new ELFunctionDefinition("", "raise_exception", PyJinja.class, "raiseException",
                Object.class));
        g.registerFunction(new ELFunctionDefinition("", "strftime_now", PyJinja.class, "strftimeNow", String.class));
        g.registerFunction(new ELFunctionDefinition("", "__py_defined_name", PyJinja.class, "definedName",
                String.class, Object.class));
        g.registerFunction(new ELFunctionDefinition("", "__py_defined_key", PyJinja.class, "definedKey",
                Object.class, Object.class, Object.class));
        g.registerFilter(new ToJson());
        g.registerFilter(new PySlice());
        g.registerFilter(new Length("length"));
        g.registerFilter(new Length("count"));
        g.registerTag(new GenerationTag());
        return j;
    }

    /** A subject (a name chain or a string literal) followed by a slice {@code [start:stop:step]} of literal ints. */
    private static final Pattern SLICE = Pattern.compile(
            "('(?:[^'\\\\]|\\\\.)*'|\"(?:[^\"\\\\]|\\\\.)*\"|"
                    + "[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*|\\[[^\\[\\]:]*\\])*)"
                    + "\\[\\s*(-?\\d+)?\\s*:\\s*(-?\\d+)?\\s*(?::\\s*(-?\\d+)?\\s*)?\\]");
    private static final Pattern CODE = Pattern.compile("\\{\\{.*?\\}\\}|\\{%.*?%\\}|\\{#.*?#\\}",
            Pattern.DOTALL);
    private static final Pattern RAW = Pattern.compile("\\{%[-+]?\\s*raw\\s*[-+]?%\\}");
    private static final Pattern END_RAW = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%\\}");

    /**
     * Rewrites a template so that Jinjava reads it as Python's jinja2 does. Jinja2 reads
     * {@code \r\n} and {@code \r} as {@code \n} and drops one trailing newline of the template. Inside expressions and tags: slices become the
     * {@code __py_slice} filter (Jinjava has no slice step); a unary {@code not} gets parentheses
     * around what it covers in Python ({@code not x is defined} is {@code not (x is defined)},
     * where Jinjava binds {@code not} to {@code x} alone); a keyword argument's value gets
     * parentheses ({@code namespace(n=a - 1)}, where Jinjava reads {@code (n=a) - 1}).
     */
    static String prepare(String template) {
        // jinja2's lexer turns \r\n and \r into \n, then drops one trailing newline.
        String t = template.replace("\r\n", "\n").replace('\r', '\n');
        t = t.endsWith("\n") ? t.substring(0, t.length() - 1) : t;
        t = rewriteLoops(t);
        Matcher code = CODE.matcher(t);
        StringBuilder out = new StringBuilder(t.length() + 16);
        int last = 0;
        int from = 0;
        boolean lineStarting = true;
        while (code.find(from)) {
            String g = code.group();
            boolean block = g.startsWith("{%") || g.startsWith("{#");
            String text = t.substring(last, code.start());
            if (block && g.charAt(2) != '+' && g.charAt(2) != '-') {
                // lstrip_blocks as jinja2 does it: only whitespace that starts its line goes.
                int l = text.lastIndexOf('\n') + 1;
                if ((l > 0 || lineStarting) && text.substring(l).chars().allMatch(Character::isWhitespace)) {
                    text = text.substring(0, l);
                }
            }
            out.append(text);
            last = code.end();
            from = code.end();
            lineStarting = lineStartsAfter(t, g, code.end());
            if (g.startsWith("{#")) {
                out.append(g);
                continue;
            }
            boolean tag = g.startsWith("{%");
            int a = 2;
            int b = g.length() - 2;
            if (a < b && (g.charAt(a) == '-' || g.charAt(a) == '+')) {
                a++;
            }
            if (b > a && (g.charAt(b - 1) == '-' || g.charAt(b - 1) == '+')) {
                b--;
            }
            String inner = g.substring(a, b);
            if (tag && RAW.matcher(g).matches()) {
                Matcher e = END_RAW.matcher(t);
                int endAt = e.find(code.end()) ? e.end() : t.length();
                out.append(t, code.start(), endAt);
                last = endAt;
                from = endAt;
                continue;
            }
            String word = inner.strip().split("\\s+", 2)[0];
            boolean kwargs = !(tag && (word.equals("macro") || word.equals("call")));
            out.append(g, 0, a).append(rewriteExpression(slices(definedTests(inner)), kwargs)).append(g.substring(b));
        }
        out.append(t.substring(last));
        return out.toString();
    }

    private static final Pattern TAG = Pattern.compile("\\{%([-+]?)(.*?)([-+]?)%\\}", Pattern.DOTALL);
    private static final java.util.Set<String> BLOCKS = java.util.Set.of("for", "if", "macro", "call", "filter",
            "generation", "with", "autoescape", "block");

    /** One {@code {% ... %}} tag of a template. */
    private record TagAt(int start, int end, String left, String inner, String right, String word) {
    }

    /**
     * Loops Jinjava does not run as jinja2 does, rewritten into ones it does: a loop filter
     * ({@code {% for m in messages if m.role != 'system' %}}, where Jinjava ignores the filter)
     * becomes a loop over the items collected first, so {@code loop.index} and {@code loop.last}
     * count only those; a loop's {@code {% else %}} (which Jinjava renders on every iteration)
     * becomes an {@code if} after the loop on whether there were no items.
     */
    static String rewriteLoops(String t) {
        List<TagAt> tags = new ArrayList<>();
        Matcher m = TAG.matcher(t);
        int from = 0;
        while (m.find(from)) {
            String inner = m.group(2);
            String word = inner.strip().split("\\s+", 2)[0];
            tags.add(new TagAt(m.start(), m.end(), m.group(1), inner, m.group(3), word));
            from = m.end();
            if (word.equals("raw")) {
                Matcher e = END_RAW.matcher(t);
                from = e.find(m.end()) ? e.end() : t.length();
            }
        }
        Map<Integer, String> replace = new java.util.HashMap<>();
        java.util.ArrayDeque<Integer> open = new java.util.ArrayDeque<>();
        Map<Integer, Integer> elseOf = new java.util.HashMap<>(); // for tag index -> its else tag index
        Map<Integer, Integer> endOf = new java.util.HashMap<>();
        for (int i = 0; i < tags.size(); i++) {
            String w = tags.get(i).word();
            if (BLOCKS.contains(w) || (w.equals("set") && !tags.get(i).inner().contains("="))) {
                open.push(i);
            } else if (w.startsWith("end") && !open.isEmpty()) {
                int o = open.pop();
                endOf.put(o, i);
            } else if (w.equals("else") && !open.isEmpty() && tags.get(open.peek()).word().equals("for")) {
                elseOf.put(open.peek(), i);
            }
        }
        int loopNo = 0;
        for (int i = 0; i < tags.size(); i++) {
            TagAt tag = tags.get(i);
            if (!tag.word().equals("for")) {
                continue;
            }
            List<String> toks = lex(tag.inner());
            int in = -1;
            int ifAt = -1;
            int depth = 0;
            for (int k = 0; k < toks.size(); k++) {
                String x = toks.get(k);
                if (x.equals("(") || x.equals("[") || x.equals("{")) {
                    depth++;
                } else if (x.equals(")") || x.equals("]") || x.equals("}")) {
                    depth--;
                } else if (depth == 0 && x.equals("in") && in < 0) {
                    in = k;
                } else if (depth == 0 && x.equals("if") && in >= 0 && ifAt < 0) {
                    ifAt = k;
                }
            }
            boolean hasElse = elseOf.containsKey(i) && endOf.containsKey(i);
            if (in < 0 || (ifAt < 0 && !hasElse)) {
                continue;
            }
            int forAt = toks.indexOf("for");
            String targets = String.join("", toks.subList(forAt + 1, in)).strip();
            String iter = String.join("", toks.subList(in + 1, ifAt < 0 ? toks.size() : ifAt)).strip();
            String items = "(" + iter + ")";
            if (ifAt >= 0) {
                String cond = String.join("", toks.subList(ifAt + 1, toks.size())).strip();
                String list = "__attn4j_loop" + loopNo++;
                String item = targets.contains(",") ? "[" + targets + "]" : targets;
                replace.put(i, "{%" + tag.left() + " set " + list + " = [] %}{% for " + targets + " in " + iter
                        + " %}{% if " + cond + " %}{% do " + list + ".append(" + item + ") %}{% endif %}{% endfor %}"
                        + "{% for " + targets + " in " + list + " " + tag.right() + "%}");
                items = list;
            }
            if (hasElse) {
                TagAt e = tags.get(elseOf.get(i));
                TagAt end = tags.get(endOf.get(i));
                replace.put(elseOf.get(i), "{%" + e.left() + " endfor %}{% if " + items + "|length == 0 " + e.right()
                        + "%}");
                replace.put(endOf.get(i), "{%" + end.left() + " endif " + end.right() + "%}");
            }
        }
        if (replace.isEmpty()) {
            return t;
        }
        StringBuilder out = new StringBuilder(t.length() + 256);
        int last = 0;
        for (int i = 0; i < tags.size(); i++) {
            String r = replace.get(i);
            if (r != null) {
                out.append(t, last, tags.get(i).start()).append(r);
                last = tags.get(i).end();
            }
        }
        return out.append(t.substring(last)).toString();
    }

    /** Whether text after this tag starts a line, as jinja2's lexer tracks it for lstrip_blocks. */
    private static boolean lineStartsAfter(String t, String tag, int end) {
        char last = tag.charAt(tag.length() - 3);
        if (last == '-') {
            int e = end;
            while (e < t.length() && Character.isWhitespace(t.charAt(e))) {
                e++;
            }
            return e > end && t.charAt(e - 1) == '\n';
        }
        boolean block = tag.startsWith("{%") || tag.startsWith("{#");
        return block && last != '+' && end < t.length() && t.charAt(end) == '\n';
    }

    /** {@code path is [not] defined} / {@code is undefined} on a name path, outside string literals. */
    private static final Pattern DEFINED = Pattern.compile(
            "(?<![\\w.\\]'\")])([A-Za-z_]\\w*)((?:\\.[A-Za-z_]\\w*|\\[(?:'[^'\\\\]*'|\"[^\"\\\\]*\"|-?\\d+)\\])*)"
                    + "\\s+is\\s+(not\\s+)?(defined|undefined)\\b");
    private static final Pattern LAST_PART = Pattern.compile("(\\.[A-Za-z_]\\w*|\\[[^\\]]*\\])$");

    /**
     * Rewrites {@code x is defined} (and {@code x.k}, {@code x['k']}) into calls that tell a
     * variable or key bound to None (defined in jinja2) from a missing one, which Jinjava cannot.
     */
    static String definedTests(String code) {
        Matcher m = DEFINED.matcher(code);
        StringBuilder sb = new StringBuilder();
        int last = 0;
        while (m.find()) {
            if (insideString(code, m.start())) {
                continue;
            }
            String name = m.group(1);
            String rest = m.group(2);
            boolean negate = (m.group(3) != null) != m.group(4).equals("undefined");
            String original = "(" + name + rest + " is defined)";
            String call;
            if (rest.isEmpty()) {
                call = "__py_defined_name('" + name + "', " + original + ")";
            } else {
                Matcher p = LAST_PART.matcher(rest);
                if (!p.find()) {
                    continue;
                }
                String part = p.group(1);
                String key = part.startsWith(".") ? "'" + part.substring(1) + "'" : part.substring(1, part.length() - 1);
                call = "__py_defined_key(" + name + rest.substring(0, p.start()) + ", " + key + ", " + original + ")";
            }
            sb.append(code, last, m.start()).append(negate ? "(not " + call + ")" : call);
            last = m.end();
        }
        return sb.append(code.substring(last)).toString();
    }

    private static boolean insideString(String code, int at) {
        char q = 0;
        for (int i = 0; i < at; i++) {
            char c = code.charAt(i);
            if (q != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == q) {
                    q = 0;
                }
            } else if (c == '\'' || c == '"') {
                q = c;
            }
        }
        return q != 0;
    }

    private static String slices(String code) {
        Matcher m = SLICE.matcher(code);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement("(" + m.group(1) + "|__py_slice("
                    + orNone(m.group(2)) + ", " + orNone(m.group(3)) + ", " + orNone(m.group(4)) + "))"));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** Lexes Jinja expression text into tokens: whitespace runs, strings, names, numbers, operators. */
    private static List<String> lex(String s) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            int j = i + 1;
            if (Character.isWhitespace(c)) {
                while (j < n && Character.isWhitespace(s.charAt(j))) {
                    j++;
                }
            } else if (c == '\'' || c == '"') {
                while (j < n && s.charAt(j) != c) {
                    j += s.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(j + 1, n);
            } else if (Character.isLetter(c) || c == '_') {
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
            } else if (Character.isDigit(c)) {
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '.')) {
                    j++;
                }
            } else if (j < n && "=!<>".indexOf(c) >= 0 && s.charAt(j) == '=') {
                j++;
            } else if (j < n && (c == '/' || c == '*') && s.charAt(j) == c) {
                j++;
            }
            out.add(s.substring(i, j));
            i = j;
        }
        return out;
    }

    /**
     * A Python string literal in the escapes Jinjava reads: {@code \\xNN}, {@code \\uNNNN},
     * {@code \\UNNNNNNNN}, {@code \\0}, {@code \\a}, {@code \\v} become the characters; an
     * escape Python does not know keeps its backslash, as in Python.
     */
    static String pythonStringLiteral(String tok) {
        if (tok.indexOf('\\') < 0 || tok.length() < 2) {
            return tok;
        }
        char q = tok.charAt(0);
        StringBuilder sb = new StringBuilder(tok.length()).append(q);
        int end = tok.charAt(tok.length() - 1) == q ? tok.length() - 1 : tok.length();
        for (int i = 1; i < end; i++) {
            char c = tok.charAt(i);
            if (c != '\\' || i + 1 >= end) {
                sb.append(c);
                continue;
            }
            char e = tok.charAt(++i);
            int hex = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
            if (hex > 0 && i + hex < end && tok.substring(i + 1, i + 1 + hex).matches("[0-9a-fA-F]+")) {
                sb.appendCodePoint(Integer.parseInt(tok.substring(i + 1, i + 1 + hex), 16));
                i += hex;
            } else if ("\\'\"ntbfr".indexOf(e) >= 0) {
                sb.append('\\').append(e);
            } else if (e == '0') {
                sb.append('\0');
            } else if (e == 'a') {
                sb.append('\u0007');
            } else if (e == 'v') {
                sb.append('\u000B');
            } else if (e == '\n') {
                // a backslash-newline continues the literal
            } else {
                sb.append("\\\\").append(e);
            }
        }
        if (end < tok.length()) {
            sb.append(q);
        }
        return sb.toString();
    }

    private static boolean isName(String tok) {
        return !tok.isEmpty() && (Character.isLetter(tok.charAt(0)) || tok.charAt(0) == '_');
    }

    /** See {@link #prepare}: parenthesizes what a unary not and a keyword argument's value cover. */
    static String rewriteExpression(String code, boolean kwargs) {
        List<String> toks = lex(code);
        StringBuilder out = new StringBuilder(code.length() + 8);
        // Open scopes: {depth, 1 for not / 2 for a keyword argument}; closed by ')' when they end.
        java.util.ArrayDeque<int[]> scopes = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<Character> brackets = new java.util.ArrayDeque<>();
        String prev = "";
        for (int i = 0; i < toks.size(); i++) {
            String tok = toks.get(i);
            if (tok.isBlank()) {
                out.append(tok);
                continue;
            }
            int depth = brackets.size();
            boolean endsNot = tok.equals("and") || tok.equals("or") || tok.equals("if") || tok.equals("else")
                    || tok.equals(",") || tok.equals(")") || tok.equals("]") || tok.equals("}") || tok.equals(":");
            boolean endsKwarg = tok.equals(",") || tok.equals(")");
            while (!scopes.isEmpty() && scopes.peek()[0] == depth
                    && ((scopes.peek()[1] == 1 && endsNot) || (scopes.peek()[1] == 2 && endsKwarg))) {
                scopes.pop();
                out.append(')');
            }
            String next = "";
            for (int k = i + 1; k < toks.size(); k++) {
                if (!toks.get(k).isBlank()) {
                    next = toks.get(k);
                    break;
                }
            }
            switch (tok) {
                case "(", "[", "{" -> {
                    out.append(tok);
                    brackets.push(tok.charAt(0));
                }
                case ")", "]", "}" -> {
                    out.append(tok);
                    if (!brackets.isEmpty()) {
                        brackets.pop();
                    }
                }
                case "not" -> {
                    if (!prev.equals("is") && !next.equals("in")) {
                        out.append("not (");
                        scopes.push(new int[] {depth, 1});
                    } else {
                        out.append(tok);
                    }
                }
                case "=" -> {
                    if (kwargs && isName(prev) && !brackets.isEmpty() && brackets.peek() == '(') {
                        out.append("=(");
                        scopes.push(new int[] {depth, 2});
                    } else {
                        out.append(tok);
                    }
                }
                default -> out.append(tok.charAt(0) == '\'' || tok.charAt(0) == '"' ? pythonStringLiteral(tok) : tok);
            }
            prev = tok;
        }
        while (!scopes.isEmpty()) {
            scopes.pop();
            out.append(')');
        }
        return out.toString();
    }

    private static String orNone(String s) {
        return s == null ? "none" : s;
    }

    /**
     * Renders {@code template} (already {@link #prepare prepared}) with {@code bindings}.
     *
     * @throws ChatTemplateException when the template calls raise_exception, or fails to parse or
     *                               evaluate (naming Jinjava's message and the line)
     */
    static String render(String template, Map<String, Object> bindings) {
        RAISED.remove();
        RenderResult r;
        try {
            r = ENGINE.renderForResult(template, bindings);
        } catch (Raised e) {
            throw new ChatTemplateException(e.getMessage(), true);
        }
        String raised = RAISED.get();
        RAISED.remove();
        if (raised != null) {
            throw new ChatTemplateException(raised, true);
        }
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                Throwable c = e.getException();
                while (c != null) {
                    if (c instanceof Raised) {
                        throw new ChatTemplateException(c.getMessage(), true);
                    }
                    c = c.getCause();
                }
                throw new ChatTemplateException("chat template error at line " + e.getLineno() + ": " + e.getMessage()
                        + (e.getFieldName() != null ? " (in '" + e.getFieldName() + "')" : ""), false);
            }
        }
        return r.getOutput();
    }

    /** Prints values as Python's {@code str()} does ({@code True}, {@code [1, 'a']}, {@code 2.5}). */
    static final class PythonInterpreter extends JinjavaInterpreter {
        PythonInterpreter(Jinjava application, Context context, JinjavaConfig config) {
            super(application, context, config);
        }

        PythonInterpreter(JinjavaInterpreter orig) {
            super(orig);
        }

        @Override
        public String getAsString(Object object) {
            return Py.str(object);
        }
    }

    static final class PythonInterpreterFactory implements InterpreterFactory {
        @Override
        public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
            return new PythonInterpreter(orig);
        }

        @Override
        public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig renderConfig) {
            return new PythonInterpreter(application, context, renderConfig);
        }
    }

    /** transformers' tojson: {@code json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}. */
    static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object[] p = new Object[4]; // ensure_ascii, indent, separators, sort_keys
            String[] names = {"ensure_ascii", "indent", "separators", "sort_keys"};
            for (int i = 0; i < args.length && i < 4; i++) {
                p[i] = args[i];
            }
            for (int i = 0; i < 4; i++) {
                if (kwargs.containsKey(names[i])) {
                    p[i] = kwargs.get(names[i]);
                }
            }
            for (String k : kwargs.keySet()) {
                if (!List.of(names).contains(k)) {
                    throw new IllegalArgumentException("tojson() got an unexpected keyword argument '" + k + "'");
                }
            }
            Integer indent = p[1] == null ? null : ((Number) p[1]).intValue();
            String itemSep = null;
            String keySep = null;
            if (p[2] instanceof List<?> seps && seps.size() == 2) {
                itemSep = String.valueOf(seps.get(0));
                keySep = String.valueOf(seps.get(1));
            }
            return Py.jsonDumps(var, Py.truthy(p[0]), indent, itemSep, keySep, Py.truthy(p[3]));
        }
    }

    /** Python's len(): code points for a string (Jinjava counts UTF-16 units), size for a collection. */
    record Length(String getName) implements Filter {
        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (var == null) {
                return 0L;
            }
            if (var instanceof CharSequence cs) {
                return (long) cs.toString().codePointCount(0, cs.length());
            }
            if (var instanceof Collection<?> c) {
                return (long) c.size();
            }
            if (var instanceof Map<?, ?> m) {
                return (long) m.size();
            }
            if (var instanceof Object[] a) {
                return (long) a.length;
            }
            if (var instanceof Iterable<?> it) {
                long n = 0;
                for (Object ignored : it) {
                    n++;
                }
                return n;
            }
            throw new IllegalArgumentException("object of type '" + var.getClass().getSimpleName() + "' has no len()");
        }
    }

    /** {@code x|__py_slice(start, stop, step)}: Python's {@code x[start:stop:step]} on a list or string. */
    static final class PySlice implements Filter {
        @Override
        public String getName() {
            return "__py_slice";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Long[] a = new Long[3];
            for (int i = 0; i < 3 && i < args.length; i++) {
                a[i] = args[i] == null ? null : ((Number) args[i]).longValue();
            }
            if (var == null) {
                return null;
            }
            if (var instanceof CharSequence cs) {
                String s = cs.toString();
                StringBuilder sb = new StringBuilder();
                for (int i : Py.sliceIndices(s.length(), a[0], a[1], a[2])) {
                    sb.append(s.charAt(i));
                }
                return sb.toString();
            }
            List<Object> items = new ArrayList<>();
            if (var instanceof Iterable<?> it) {
                it.forEach(items::add);
            } else if (var instanceof Object[] arr) {
                items.addAll(List.of(arr));
            } else {
                throw new IllegalArgumentException("cannot slice a " + var.getClass().getSimpleName());
            }
            List<Object> out = new ArrayList<>();
            for (int i : Py.sliceIndices(items.size(), a[0], a[1], a[2])) {
                out.add(items.get(i));
            }
            return out;
        }
    }

    /** transformers' {@code {% generation %}...{% endgeneration %}}: renders its body (assistant masks are not tracked). */
    static final class GenerationTag implements Tag {
        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            StringBuilder sb = new StringBuilder();
            for (Node n : tagNode.getChildren()) {
                sb.append(n.render(interpreter).getValue());
            }
            return sb.toString();
        }
    }

    /**
     * Python's {@code str} methods on strings ({@code strip}, {@code split}, {@code startswith},
     * ...) and indexing a string ({@code s[0]}, {@code s[-1]}); everything else falls through to
     * Jinjava's resolvers.
     */
    static final class PythonMethods extends ELResolver {
        @Override
        public Object getValue(ELContext context, Object base, Object property) {
            if (base instanceof String s && property != null && String.valueOf(property).matches("-?\\d{1,9}")) {
                long i = Long.parseLong(String.valueOf(property));
                if (i < 0) {
                    i += s.length();
                }
                if (i >= 0 && i < s.length()) {
                    context.setPropertyResolved(true);
                    return String.valueOf(s.charAt((int) i));
                }
            }
            return null;
        }

        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
            if (!(base instanceof String s) || !(method instanceof String name)) {
                return null;
            }
            Object[] p = params == null ? new Object[0] : params;
            Object r = call(s, name, p);
            if (r == NOT_FOUND) {
                return null;
            }
            context.setPropertyResolved(true);
            return r;
        }

        private static final Object NOT_FOUND = new Object();

        private static String arg(Object[] p, int i) {
            return i < p.length && p[i] != null ? Py.str(p[i]) : null;
        }

        private static Object call(String s, String name, Object[] p) {
            return switch (name) {
                case "strip" -> Py.strip(s, arg(p, 0), true, true);
                case "lstrip" -> Py.strip(s, arg(p, 0), true, false);
                case "rstrip" -> Py.strip(s, arg(p, 0), false, true);
                case "split" -> Py.split(s, arg(p, 0), p.length > 1 && p[1] != null ? ((Number) p[1]).intValue() : -1);
                case "startswith", "endswith" -> {
                    List<String> prefixes = new ArrayList<>();
                    if (p.length > 0 && p[0] instanceof Collection<?> c) {
                        c.forEach(x -> prefixes.add(Py.str(x)));
                    } else {
                        prefixes.add(arg(p, 0));
                    }
                    boolean any = false;
                    for (String x : prefixes) {
                        any |= name.equals("startswith") ? s.startsWith(x) : s.endsWith(x);
                    }
                    yield any;
                }
                case "replace" -> {
                    String old = arg(p, 0);
                    String neu = arg(p, 1);
                    if (p.length > 2 && p[2] != null) {
                        int count = ((Number) p[2]).intValue();
                        StringBuilder sb = new StringBuilder();
                        int i = 0;
                        int done = 0;
                        while (count < 0 || done < count) {
                            int j = s.indexOf(old, i);
                            if (j < 0 || old.isEmpty()) {
                                break;
                            }
                            sb.append(s, i, j).append(neu);
                            i = j + old.length();
                            done++;
                        }
                        yield sb.append(s.substring(i)).toString();
                    }
                    yield s.replace(old, neu);
                }
                case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
                case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
                case "title" -> Py.title(s);
                case "capitalize" -> Py.capitalize(s);
                case "find" -> (long) s.indexOf(arg(p, 0));
                case "rfind" -> (long) s.lastIndexOf(arg(p, 0));
                case "count" -> {
                    String x = arg(p, 0);
                    long n = 0;
                    if (x.isEmpty()) {
                        yield (long) s.length() + 1;
                    }
                    for (int i = s.indexOf(x); i >= 0; i = s.indexOf(x, i + x.length())) {
                        n++;
                    }
                    yield n;
                }
                case "join" -> {
                    List<String> parts = new ArrayList<>();
                    if (p.length > 0 && p[0] instanceof Iterable<?> it) {
                        it.forEach(x -> parts.add(Py.str(x)));
                    }
                    yield String.join(s, parts);
                }
                case "splitlines" -> {
                    List<String> lines = new ArrayList<>(List.of(s.split("\r\n|\r|\n", -1)));
                    if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
                        lines.remove(lines.size() - 1);
                    }
                    yield lines;
                }
                case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
                case "isalpha" -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
                case "isspace" -> !s.isEmpty() && s.chars().allMatch(Py::isSpace);
                case "isupper" -> s.chars().anyMatch(Character::isUpperCase) && s.chars().noneMatch(Character::isLowerCase);
                case "islower" -> s.chars().anyMatch(Character::isLowerCase) && s.chars().noneMatch(Character::isUpperCase);
                default -> NOT_FOUND;
            };
        }

        @Override
        public Class<?> getType(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public void setValue(ELContext context, Object base, Object property, Object value) {
        }

        @Override
        public boolean isReadOnly(ELContext context, Object base, Object property) {
            return true;
        }

        @Override
        public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
            return null;
        }

        @Override
        public Class<?> getCommonPropertyType(ELContext context, Object base) {
            return null;
        }
    }
}
