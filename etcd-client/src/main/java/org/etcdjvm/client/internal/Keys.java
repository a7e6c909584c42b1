package org.etcdjvm.client.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import okhttp3.HttpUrl;

/**
 * Turns an etcd key into URL path segments.
 *
 * <p>Keys are paths: {@code foo}, {@code /foo} and {@code /foo/} all name {@code /foo}, as etcd's own
 * {@code path.Clean("/" + key)} does. Each segment is added with {@link
 * HttpUrl.Builder#addPathSegment}, which percent-encodes {@code %}, {@code ?}, {@code #}, spaces and
 * every other character that is not allowed in a path, so a key can never change the URL's query or
 * escape {@code /v1/keys/}. Segments {@code .} and {@code ..} are refused: {@link HttpUrl} would
 * resolve them (a {@code ..} would climb out of {@code /v1/keys/}).
 */
public final class Keys {
  private Keys() {}

  /** Returns the non-empty segments of {@code key}; an empty list means the root. */
  public static List<String> segments(String key, String name) {
    Objects.requireNonNull(key, () -> name + " == null");
    List<String> segments = new ArrayList<>(4);
    int start = 0;
    int length = key.length();
    while (start <= length) {
      int slash = key.indexOf('/', start);
      int end = slash == -1 ? length : slash;
      if (end > start) {
        String segment = key.substring(start, end);
        if (segment.equals(".") || segment.equals("..")) {
          throw new IllegalArgumentException(
              name + " must not contain '.' or '..' segments: \"" + key + "\"");
        }
        segments.add(segment);
      }
      start = end + 1;
    }
    return List.copyOf(segments);
  }

  /** The normalised key etcd reports for these segments, such as {@code /foo/bar} or {@code /}. */
  public static String normalized(List<String> segments) {
    return segments.isEmpty() ? "/" : "/" + String.join("/", segments);
  }

  /** {@code base} + {@code /v1/<api>/} + the key's segments (a trailing slash for the root). */
  public static HttpUrl url(HttpUrl base, String api, List<String> segments) {
    HttpUrl.Builder builder = base.newBuilder().query(null).fragment(null)
        .addPathSegment("v1")
        .addPathSegment(api);
    if (segments.isEmpty()) {
      builder.addPathSegment("");
    } else {
      for (int i = 0, n = segments.size(); i < n; i++) {
        builder.addPathSegment(segments.get(i));
      }
    }
    return builder.build();
  }
}
