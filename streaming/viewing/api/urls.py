from django.urls import path

from streaming.viewing.api import views

urlpatterns = [
    path("progress/<id:content_id>/", views.ProgressView.as_view(), name="progress"),
    path("continue-watching/", views.ContinueWatchingView.as_view(), name="continue-watching"),
    path("history/", views.HistoryView.as_view(), name="history"),
    path("history/<id:content_id>/", views.HistoryEntryView.as_view(), name="history-entry"),
    path("my-list/", views.MyListView.as_view(), name="my-list"),
    path("my-list/<id:content_id>/", views.MyListItemView.as_view(), name="my-list-item"),
    path("playlists/", views.PlaylistListView.as_view(), name="playlists"),
    path("playlists/shared/<token:token>/", views.SharedPlaylistView.as_view(), name="playlist-shared"),
    path("playlists/<id:playlist_id>/", views.PlaylistDetailView.as_view(), name="playlist"),
    path("playlists/<id:playlist_id>/items/", views.PlaylistItemsView.as_view(), name="playlist-items"),
    path("playlists/<id:playlist_id>/items/order/", views.PlaylistOrderView.as_view(), name="playlist-order"),
    path("playlists/<id:playlist_id>/items/<id:item_id>/", views.PlaylistItemView.as_view(), name="playlist-item"),
]
