/* cover_all.c: what each domain covers with the transparency log (store/cover.h), and the
 * personal data each holds (store/personal.h), declared at once: every command of govhall
 * (main.c) and the test programs call it at their start. */
#include "app.h"
#include "booking/booking.h"
#include "cases/cases.h"
#include "catalog/catalog.h"
#include "certs/certs.h"
#include "federation/federation.h"
#include "fedwallet/fedwallet.h"
#include "identity/identity.h"
#include "interact/interact.h"
#include "notify/notify.h"
#include "open311/open311.h"
#include "pay/pay.h"
#include "publish/publish.h"
#include "remote/remote.h"

void app_cover_declare(void)
{
	catalog_register();
	identity_register();
	cases_register();
	interact_register();
	publish_register();
	open311_register();
	certs_cover_declare();
	booking_register();
	pay_cover_declare();
	fed_register();
	remote_register();
	fedwallet_register();

	identity_personal_declare();
	cases_personal_declare();
	interact_personal_declare();
	pay_personal_declare();
	booking_personal_declare();
	certs_personal_declare();
	notify_personal_declare();
	remote_personal_declare();
	fedwallet_personal_declare();
}
