from django.http import HttpResponse


def dashboard(request):
    return HttpResponse("")


def suggestion_list(request):
    return HttpResponse("")
