package dev.attn4j.nn;

import java.util.Map;

/**
 * Child modules under names, as torch.nn.ModuleDict: its entries appear in state dicts as
 * {@code name.<key>.*} (peft keeps each adapter's layers in one, {@code lora_A.default.weight}).
 * It has no forward.
 */
public final class ModuleDict<M extends Module> extends Module {
    public ModuleDict(Map<String, ? extends M> modules) {
        modules.forEach((name, m) -> {
            if (m == null) throw new IllegalArgumentException("ModuleDict entry '" + name + "' is null");
            child(name, m);
        });
    }

    /** The entry {@code name}; an error naming the keys there are when it is absent. */
    @SuppressWarnings("unchecked")
    public M get(String name) {
        Module m = children().get(name);
        if (m == null) throw new IllegalArgumentException("ModuleDict has no entry '" + name + "'; it has " + children().keySet());
        return (M) m;
    }
}
