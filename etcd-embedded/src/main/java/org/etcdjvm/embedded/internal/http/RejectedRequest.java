package org.etcdjvm.embedded.internal.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.etcdjvm.embedded.internal.store.EtcdError;

/**
 * Takes the place of a request that a handler before {@link HttpConnection} refused without
 * buffering its body (too large, or over the node's budget of buffered request bytes): it is
 * passed on in the request's place, so the error goes out in turn with the other responses of the
 * connection.
 *
 * @param version   the request's HTTP version
 * @param keepAlive whether the connection serves the next request afterwards (the rest of the body
 *     is then read and thrown away); false closes it after the answer
 * @param status    the HTTP status of the answer
 * @param error     the etcd error of the answer's JSON
 * @param cause     the error's {@code cause}
 */
record RejectedRequest(HttpVersion version, boolean keepAlive, HttpResponseStatus status, EtcdError error,
    String cause) {}
