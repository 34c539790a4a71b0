/* Fuzzes the shapes of the messages that forward consultations and complaints between halls
 * (src/interact/forward.c: ia_forward_msg_check, ia_forward_state_check): any bytes as the
 * body of a message of subject "ZX1". Checks what interact_impl.h promises of an accepted one:
 * its number is the subject; a forward names a person (name and ID number of bounded size), a
 * place (an item or a department), a subject and a text, and a complaint its type; a state is
 * received (a positive remote id, a day), answered (an answer within its size) or returned;
 * and that every refusal says why. */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "interact/interact_impl.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	json_t *b = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!b)
		return 0;
	struct ia_forward_msg f;
	const char *why = ia_forward_msg_check(b, "ZX1", &f);
	if (why)
		check(*why != 0);
	else {
		check(!strcmp(json_string_value(json_object_get(b, "number")), "ZX1"));
		check(f.name && *f.name && strlen(f.name) <= 100);
		check(f.id_number && *f.id_number && strlen(f.id_number) <= 32);
		check(f.subject && *f.subject && f.text && *f.text);
		check(f.item_code || f.department);
		check(!f.complaint || (f.type && (!strcmp(f.type, "complaint") || !strcmp(f.type, "suggestion"))));
	}
	struct ia_forward_state s;
	why = ia_forward_state_check(b, "ZX1", &s);
	if (why)
		check(*why != 0);
	else if (!strcmp(s.action, "received"))
		check(s.remote_id > 0 && s.due_day && strlen(s.due_day) == 10);
	else if (!strcmp(s.action, "answered"))
		check(s.answer && *s.answer);
	else
		check(!strcmp(s.action, "returned"));
	/* another subject: never accepted */
	check(ia_forward_msg_check(b, "ZX2", &f) != NULL || strcmp(json_string_value(json_object_get(b, "number")), "ZX2") == 0);
	json_decref(b);
	return 0;
}
