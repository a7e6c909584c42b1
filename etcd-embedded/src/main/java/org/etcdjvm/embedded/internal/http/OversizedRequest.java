package org.etcdjvm.embedded.internal.http;

import io.netty.handler.codec.http.HttpVersion;

/**
 * Takes the place of a request whose body was larger than allowed: the aggregator drops the body
 * and passes this on, so the 413 goes out in turn with the other responses of the connection.
 *
 * @param version   the request's HTTP version
 * @param keepAlive whether the client asked to keep the connection; the rest of the body is then
 *     read and thrown away, and the connection serves the next request
 */
record OversizedRequest(HttpVersion version, boolean keepAlive) {}
