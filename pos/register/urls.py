from django.urls import path

from pos.register import lock, views

app_name = "register"

urlpatterns = [
    path("", views.register, name="register"),
    path("lock/", lock.lock, name="lock"),
    path("unlock/", lock.unlock, name="unlock"),
    path("start/", views.start, name="start"),
    path("open/", views.open_shift_view, name="open_shift"),
    path("scan/", views.scan, name="scan"),
    path("search/", views.search, name="search"),
    path("add/<int:pk>/", views.add_product, name="add_product"),
    path("lines/<int:index>/", views.update_line, name="update_line"),
    path("lines/<int:index>/more/", views.more_of_line, name="more_of_line"),
    path("lines/<int:index>/less/", views.less_of_line, name="less_of_line"),
    path("lines/<int:index>/remove/", views.remove_line, name="remove_line"),
    path("clear/", views.clear, name="clear"),
    path("discount/", views.order_discount, name="order_discount"),
    path("customer/", views.attach_customer, name="attach_customer"),
    path("customer/new/", views.create_customer_view, name="create_customer"),
    path("hold/", views.hold, name="hold"),
    path("held/<int:pk>/resume/", views.resume, name="resume"),
    path("held/<int:pk>/discard/", views.discard, name="discard"),
    path("pay/", views.payment, name="payment"),
    path("pay/quick-cash/", views.quick_cash, name="quick_cash"),
    path("pay/momo/request/", views.momo_request, name="momo_request"),
    path("pay/momo/check/", views.momo_check, name="momo_check"),
    path("pay/complete/", views.complete, name="complete"),
    path("history/", views.history, name="history"),
    path("sales/<int:pk>/void/", views.void, name="void"),
    path("returns/", views.returns, name="returns"),
    path("account/", views.account, name="account"),
    path("account/<int:pk>/", views.account_payment, name="account_payment"),
    path("sales/<int:pk>/refund/", views.refund, name="refund"),
    path("shift/", views.shift_view, name="shift"),
    path("shift/no-sale/", views.no_sale, name="no_sale"),
    path("shifts/<int:pk>/z-report/", views.z_report, name="z_report"),
    path("shifts/<int:pk>/z-report/print/", views.print_z_report, name="print_z_report"),
    path("shifts/review/", views.shifts_to_review, name="shifts_to_review"),
    path("shifts/<int:pk>/review/", views.review_shift, name="review_shift"),
]
