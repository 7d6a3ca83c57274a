package dev.attn4j.hub;

import java.nio.file.Path;
import java.util.List;
import java.util.SortedSet;

/**
 * The result of {@link HubDownloader#download}: one commit of a repository in the cache.
 *
 * @param id      the repository and the revision asked for
 * @param commit  the commit the revision resolved to
 * @param dir     {@code snapshots/<commit>}
 * @param files   every file now present in {@code dir} (repository paths with {@code /})
 * @param fetched files whose snapshot entry this call created (downloaded or linked to a cached blob)
 * @param absent  optional files the Hub does not have at this commit
 */
public record HubSnapshot(ModelId id, String commit, Path dir, SortedSet<String> files, List<String> fetched,
                          List<String> absent) {
}
