package dev.attn4j.nn;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * An indexed list of child modules named 0, 1, 2, ... as torch.nn.ModuleList; unlike
 * {@link Sequential} it has no forward, so its entries may take any arguments.
 */
public final class ModuleList<M extends Module> extends Module implements Iterable<M> {
    private final List<M> modules;

    public ModuleList(List<? extends M> modules) {
        List<M> list = new ArrayList<>(modules.size());
        for (int i = 0; i < modules.size(); i++) {
            M m = modules.get(i);
            if (m == null) throw new IllegalArgumentException("ModuleList entry " + i + " is null");
            list.add(m);
            child(Integer.toString(i), m);
        }
        this.modules = List.copyOf(list);
    }

    public int size() {
        return modules.size();
    }

    public M get(int i) {
        if (i < 0 || i >= modules.size()) {
            throw new IndexOutOfBoundsException("ModuleList index " + i + " out of range for " + modules.size() + " modules");
        }
        return modules.get(i);
    }

    @Override
    public Iterator<M> iterator() {
        return modules.iterator();
    }
}
