/*
 * engine.h - how a loadgen thread does its I/O: the one small interface
 * between the connections' state machine (lg_conn.c) and the kernel.
 *
 * Two engines implement it, chosen with --engine:
 *   epoll     (engine_epoll.c, the default) readiness: the kernel says a
 *             socket is READY, and we call connect, read and send ourselves.
 *   io_uring  (engine_uring.c) completion: we hand the kernel the connect,
 *             the receive and the send as requests, and it says each is DONE.
 *
 * lg_conn.c never knows which one runs. It asks an engine to connect, send and
 * close; the engine reports what happened through the three calls at the end
 * of lg_conn.h: lg_conn_connected, lg_conn_received and lg_conn_failed. A send
 * that completes is reported by no call: the engine advances c->out_off, and
 * lg_conn_send() finds it there when it queues more. Redis's event library
 * has the same shape: one small interface, one file per backend.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <stdint.h>

struct worker;
struct lg_conn;

struct engine {
	const char *name; /* as --engine spells it */

	/* Checks, once and before any thread starts, that this kernel can run
	   the engine; when not, prints one line saying what is missing and
	   exits 2. Never returns otherwise-broken state. */
	void (*probe)(void);

	/* Sets up w's loop; runs in w's own thread, first. Dies on failure. */
	void (*start)(struct worker *w);

	/* Tears w's loop down after its last connection closed; in w's thread. */
	void (*stop)(struct worker *w);

	/* Starts connecting c to cfg.dst from source c->src. Returns 0 with
	   c->fd set (the outcome is reported later by lg_conn_connected), or an
	   errno when no connect could start (EMFILE); then nothing is open. */
	int (*connect)(struct worker *w, struct lg_conn *c);

	/* Sends cfg.req[c->out_off .. c->out_len), now or as soon as it can,
	   advancing out_off (both reset to 0 when all is sent); a failure is
	   reported by lg_conn_failed. Calling it again while bytes are still on
	   their way is allowed and sends nothing twice. */
	void (*send)(struct worker *w, struct lg_conn *c);

	/* Closes c->fd; nothing started on it before is reported afterwards. */
	void (*close)(struct worker *w, struct lg_conn *c);

	/* Waits for events until `until` (now_ns clock; `now` is the present)
	   and reports each one to lg_conn.c. May return early (a signal). */
	void (*wait)(struct worker *w, uint64_t now, uint64_t until);
};

extern const struct engine engine_epoll, engine_uring;

#endif
