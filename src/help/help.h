/* help.h: the help centre (办事指南 for using the hall itself): how to register, apply, pay,
 * book a visit, verify a document and complain, in both languages.
 *
 * The answers are Markdown files, DATA_DIR/help/{zh,en}/<topic>.md, one per topic of a fixed
 * list (help.c); the first line "# Title" is the topic's title. They are read when asked for
 * (a few kilobytes) and rendered with cmark's safe mode (publish_markdown_html), so an
 * operator edits them without a rebuild. GET /help lists the topics and searches them
 * (?q=: the topics whose text holds every word of q, case folded for ASCII); GET
 * /help/{topic} shows one. Public pages, nothing personal. */
#ifndef GH_HELP_H
#define GH_HELP_H

struct router;

int help_add_routes(struct router *rt);

#endif
