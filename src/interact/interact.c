/* interact.c: the module's start: the cases observer of evaluations.c and the FAQ section
 * consult.c adds to the catalog's guide pages. */
#include "catalog/catalog.h"
#include "http/sections.h"
#include "interact/interact.h"
#include "interact/interact_impl.h"

int interact_init(struct app *app, char *err, size_t errlen)
{
	(void)app;
	(void)err;
	(void)errlen;
	ia_evaluations_init();
	ia_forward_init();
	page_section_add(CATALOG_PAGE_GUIDE, 30, ia_faq_section);
	return 0;
}
