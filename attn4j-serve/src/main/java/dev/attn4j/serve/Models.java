package dev.attn4j.serve;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The loaded models by id, and how a request's {@code model} field picks one. */
final class Models {
    private final Map<String, ServedModel> byId = new LinkedHashMap<>();

    Models(List<? extends ServedModel> models) {
        for (ServedModel m : models) {
            if (byId.putIfAbsent(m.id(), m) != null) {
                throw new IllegalArgumentException("two models have the id '" + m.id() + "'; each needs its own");
            }
        }
    }

    List<ServedModel> all() {
        return List.copyOf(byId.values());
    }

    ServedModel byId(String id) {
        return byId.get(id);
    }

    <T extends ServedModel> List<T> ofType(Class<T> type) {
        List<T> out = new ArrayList<>();
        for (ServedModel m : byId.values()) if (type.isInstance(m)) out.add(type.cast(m));
        return out;
    }

    /**
     * The model a request names ({@code requested}), or with none named the only model of
     * {@code type}. {@code what} says what the route needs ("an embedding model") and
     * {@code option} how to load one ("--embedding-model M").
     *
     * @throws ApiException 404 when none of that type is loaded or the id is unknown; 400 when the
     *                      id names a model of another kind, or several qualify and none is named
     */
    <T extends ServedModel> T pick(Class<T> type, String requested, String what, String option) {
        List<T> candidates = ofType(type);
        if (requested == null) {
            if (candidates.isEmpty()) {
                throw ApiException.notFound("model", "this route needs " + what + " and none is loaded: start the server with " + option);
            }
            if (candidates.size() > 1) {
                throw ApiException.invalid("model", "'model' is required: " + candidates.size() + " models of this kind are loaded: "
                        + candidates.stream().map(ServedModel::id).toList());
            }
            return candidates.getFirst();
        }
        ServedModel m = byId.get(requested);
        if (m == null) {
            throw ApiException.notFound("model", "the model '" + requested + "' does not exist; loaded: " + byId.keySet());
        }
        if (!type.isInstance(m)) {
            throw ApiException.invalid("model", "the model '" + requested + "' is a " + m.kind() + " model; this route needs " + what);
        }
        return type.cast(m);
    }
}
