-- disable the gocardless credentials of a neutralized database
UPDATE payment_provider
   SET gocardless_access_token = NULL,
       gocardless_webhook_secret = NULL;
